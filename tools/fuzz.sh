#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang, AddressSanitizer and UBSan, then runs
# each one for SECONDS (default 30), starting from the checked-in corpus.
#
#   tools/fuzz.sh [--update-corpus] [SECONDS] [HARNESS...]
#
# New inputs land in BUILD/fuzz-work/HARNESS, crashes in BUILD/fuzz-crashes/HARNESS. After a crash
# is fixed, copy its input to tests/fuzz/corpus/HARNESS/regression-NAME so that ctest
# (fuzz.replay.*) keeps it fixed. --update-corpus re-minimises tests/fuzz/corpus/HARNESS from the
# old corpus plus the new inputs (libFuzzer -merge), which keeps it to the few files that reach
# new edges; regression-* files are always kept.
# BUILD is $CPUPROF_FUZZ_BUILD_DIR, default build-fuzz in the repository.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${CPUPROF_FUZZ_BUILD_DIR:-$root/build-fuzz}"
update=0
seconds=30
harnesses=()
for arg in "$@"; do
    case "$arg" in
    --update-corpus) update=1 ;;
    -h | --help)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *[!0-9]*) harnesses+=("$arg") ;;
    *) seconds="$arg" ;;
    esac
done
if [[ ${#harnesses[@]} -eq 0 ]]; then
    harnesses=(linetable unicode walker)
fi

for tool in clang clang++ cmake; do
    if ! command -v "$tool" >/dev/null; then
        echo "fuzz.sh: $tool not found: apt-get install -y clang cmake" >&2
        exit 1
    fi
done

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCPUPROF_BUILD_FUZZERS=ON -DCPUPROF_SANITIZE=ON >/dev/null
targets=()
for harness in "${harnesses[@]}"; do
    targets+=("fuzz_$harness")
done
cmake --build "$build" --target "${targets[@]}" -- -j"$(nproc)"

failed=()
for harness in "${harnesses[@]}"; do
    corpus="$root/tests/fuzz/corpus/$harness"
    work="$build/fuzz-work/$harness"
    crashes="$build/fuzz-crashes/$harness"
    mkdir -p "$corpus" "$work" "$crashes"
    echo "== fuzz_$harness for ${seconds}s (corpus: $(ls "$corpus" | wc -l) files)"
    # New inputs go to the first directory, so the checked-in corpus is only read.
    if ! "$build/tests/fuzz/fuzz_$harness" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "$corpus"; then
        failed+=("$harness")
        echo "fuzz_$harness failed: the input is in $crashes/" >&2
        continue
    fi
    if [[ $update -eq 1 ]]; then
        minimal="$(mktemp -d)"
        # Edge coverage only (no hit-count buckets): a few dozen files instead of hundreds.
        "$build/tests/fuzz/fuzz_$harness" -merge=1 -use_counters=0 "$minimal" "$corpus" "$work" \
            2>/dev/null
        find "$corpus" -maxdepth 1 -type f ! -name 'regression-*' -delete
        cp "$minimal"/* "$corpus"/
        rm -rf "$minimal"
        echo "== tests/fuzz/corpus/$harness now holds $(ls "$corpus" | wc -l) files"
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: crashes in: ${failed[*]}" >&2
    exit 1
fi
