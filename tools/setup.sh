#!/usr/bin/env bash
# Installs what cpuprof needs to build and test on Debian 12, when it is missing.
# Run as root (or with sudo). Installing libunwind-dev removes LLVM's conflicting libunwind-14-dev.
set -euo pipefail

packages=(build-essential cmake pkg-config libunwind-dev libdw-dev libelf-dev libcli11-dev
          libfmt-dev libspdlog-dev nlohmann-json3-dev catch2 libncurses-dev tmux strace python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]}; run as root: sudo bash $0" >&2
    exit 1
fi
echo "setup: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
