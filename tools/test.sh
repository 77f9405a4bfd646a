#!/usr/bin/env bash
# The README's second command: install, build, and pass every test, then again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/setup.sh"

echo "test: building (RelWithDebInfo) in build/" >&2
bash "$root/tools/build.sh" "$root/build"
echo "test: running the suite" >&2
ctest --test-dir "$root/build" --output-on-failure --timeout 600

echo "test: building with ASan+UBSan in build-asan/" >&2
# The benchmark tools are not tests: the sanitized build leaves them out. -O1 with line tables
# only (-g1: enough for the sanitizers' stack traces) builds in 5.5 minutes on 2 cores where
# -O2 -g took 10, which kept the whole command above 20 minutes.
bash "$root/tools/build.sh" "$root/build-asan" -DCPUPROF_SANITIZE=ON -DCPUPROF_BUILD_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
echo "test: running the suite under ASan+UBSan (timing-sensitive checks excluded)" >&2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure --timeout 900 \
    -E "expected number of samples"
