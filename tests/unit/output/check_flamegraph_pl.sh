#!/bin/sh
# Pipes cpuprof's collapsed output into Brendan Gregg's flamegraph.pl and checks that it draws
# every line. The input is tests/data/output/sample.collapsed, which a unit test keeps identical
# to what the collapsed writer produces. flamegraph.pl is not packaged in Debian and is not
# vendored here: set FLAMEGRAPH_PL=/path/to/FlameGraph/flamegraph.pl to run this check.
# Exit 77 means skipped.
input="$1"
flamegraph="${FLAMEGRAPH_PL:-/usr/bin/flamegraph.pl}"
if [ ! -r "$flamegraph" ]; then
    echo "SKIP: flamegraph.pl not found at $flamegraph (set FLAMEGRAPH_PL to run this check)"
    exit 77
fi
if ! grep -q "Brendan Gregg" "$flamegraph"; then
    echo "SKIP: $flamegraph is not Brendan Gregg's flamegraph.pl"
    exit 77
fi
out=$(mktemp) && err=$(mktemp) || exit 1
trap 'rm -f "$out" "$err"' EXIT
if ! perl "$flamegraph" --title "cpuprof sample" < "$input" > "$out" 2> "$err"; then
    echo "FAIL: flamegraph.pl exited with an error:"; cat "$err"; exit 1
fi
if grep -q "Ignored" "$err"; then
    echo "FAIL: flamegraph.pl ignored lines:"; cat "$err"; exit 1
fi
grep -q "<svg" "$out" || { echo "FAIL: no <svg> in the output of flamegraph.pl"; exit 1; }
total=$(awk '{ n += $NF } END { print n }' "$input")
# flamegraph.pl writes the root as "all (2,057 samples, 100%)".
drawn=$(grep -o '<title>all ([0-9,]* samples' "$out" | tr -cd '0-9')
[ "$drawn" = "$total" ] ||
    { echo "FAIL: flamegraph.pl drew ${drawn:-no} samples, the input has $total"; exit 1; }
echo "flamegraph.pl drew all $total samples with no ignored lines"
