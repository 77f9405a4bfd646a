#!/usr/bin/env bash
# The README's first command: install, build, and profile the bundled example into every format.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/setup.sh"
bash "$root/tools/build.sh" "$root/build" >/dev/null
python=${PYTHON:-$(command -v python3)}
out=${1:-$root/cpuprof-out}
rm -rf "$out"
echo "demo: recording $python examples/demo_app.py for 5 seconds at 1 kHz..." >&2
"$root/build/src/cli/cpuprof" record --rate 1000 --duration 5 --threads --output-dir "$out" \
    -- "$python" "$root/examples/demo_app.py" 6
echo
echo "demo: outputs in $out:"
for f in "$out"/*; do
    printf '  %-40s %s\n' "$f" "$(du -h "$f" | cut -f1)"
done
echo
echo "demo: open $out/profile.svg in a browser, load $out/profile.speedscope.json into"
echo "      speedscope, or read the summary: less $out/profile.txt"
