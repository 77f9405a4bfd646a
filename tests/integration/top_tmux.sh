#!/usr/bin/env bash
# `cpuprof top` for real: the full-screen view in a tmux pane of fixed size (keys sent, the pane
# captured and checked, the terminal's state after quitting), then the plain table written when
# stdout is not a terminal.
#
# Usage: top_tmux.sh CPUPROF_BINARY FIXTURE_top_busy.py
# Exit status: 0 pass, 1 fail, 77 skipped (no tmux, no interpreter).
set -u

cpuprof=${1:?usage: top_tmux.sh CPUPROF_BINARY top_busy.py}
fixture=${2:?usage: top_tmux.sh CPUPROF_BINARY top_busy.py}
pyenv_root=${PYENV_ROOT:-/root/.pyenv}

if ! command -v tmux >/dev/null 2>&1; then
    echo "SKIP: tmux is not installed (apt-get install -y tmux)"
    exit 77
fi
python=""
for version in 3.12.1 3.11.7 3.13.0 3.10.13 3.9.18 3.8.18; do
    candidate="$pyenv_root/versions/$version/bin/python${version%.*}"
    if [ -x "$candidate" ]; then
        python=$candidate
        python_version=$version
        break
    fi
done
if [ -z "$python" ]; then
    echo "SKIP: no pyenv interpreter under $pyenv_root/versions"
    exit 77
fi

work=$(mktemp -d)
socket="cpuprof-top-test-$$"
fixture_pid=""
plain_pid=""
cleanup() {
    tmux -L "$socket" kill-server >/dev/null 2>&1
    [ -n "$plain_pid" ] && kill "$plain_pid" 2>/dev/null
    [ -n "$fixture_pid" ] && kill "$fixture_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
pass() { echo "ok: $*"; }

tm() { tmux -L "$socket" -f /dev/null "$@"; }
capture() { tm capture-pane -p -t "$1"; }

# Polls until `test_cmd` succeeds or `timeout` seconds pass (no sleep guesses).
wait_until() {
    local timeout=$1
    shift
    local deadline=$((SECONDS + timeout))
    while ! "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.1
    done
}
pane_has() { capture "$1" | grep -Eq -- "$2"; }
file_has() { [ -s "$1" ]; }

# The first row under the column titles.
top_row() { capture "$1" | grep -A1 -E '^ +%Own +%Total' | sed -n 2p; }
# The "Window: 12.3s" figure of the header.
window_seconds() { capture "$1" | grep -Eo 'Window: [0-9.]+' | grep -Eo '[0-9.]+$'; }

"$python" "$fixture" "$work/ready" &
fixture_pid=$!
if ! wait_until 20 file_has "$work/ready"; then
    echo "FAIL: the fixture did not start ($python $fixture)"
    exit 1
fi
target=$(cat "$work/ready")

# --- the full-screen view, quit with q ---------------------------------------------------------
tm new-session -d -x 120 -y 30 -s view \
    "'$cpuprof' top --pid $target --delay 0.5; echo \$? > '$work/exit'; stty -a > '$work/stty'; exec sleep 600"

if wait_until 20 pane_has view 'Window: ([1-9]|[1-9][0-9])\.'; then
    pass "the table is on screen"
else
    fail "no table after 20 s:"
    capture view
fi
screen=$(capture view)
grep -q "pid $target  python $python_version" <<<"$screen" && pass "header names the target" ||
    fail "header does not name pid $target and python $python_version"
# One busy thread that runs Python code all the time: it holds the GIL in (nearly) every sample.
grep -Eq '^Samples/s: [0-9]+ of 1000  Window: [0-9.]+s  Threads: 1  GIL: (9[0-9]|100)\.[0-9]%  Idle: [0-9.]+%' \
    <<<"$screen" && pass "header shows rate, window, threads, GIL, idle" ||
    fail "header figures missing: $(sed -n 2p <<<"$screen")"
grep -Eq '^Errors: [0-9]+  Lost: [0-9]+  Sort: %Own  View: functions, all threads' <<<"$screen" &&
    pass "header shows errors, sort and view" || fail "header line 3: $(sed -n 3p <<<"$screen")"
grep -q '^1-6 sort  t threads  l lines  i idle  n native  p pause  r reset  q quit' <<<"$screen" &&
    pass "keys documented on screen" || fail "no keys line"
row=$(top_row view)
grep -q 'busy_heavy (top_busy.py:' <<<"$row" && pass "top row by %Own is busy_heavy" ||
    fail "top row by %Own is not busy_heavy: '$row'"

tm send-keys -t view 2
if wait_until 10 pane_has view 'Sort: %Total'; then
    row=$(top_row view)
    grep -Eq '(main|<module>) \(top_busy.py:' <<<"$row" && pass "key 2 sorts by %Total" ||
        fail "top row by %Total is not main/<module>: '$row'"
else
    fail "key 2 did not change the sort"
fi

tm resize-window -t view -x 80 -y 20
keys_on_row_20() { capture view | sed -n 20p | grep -q '^1-6 sort'; }
if wait_until 10 keys_on_row_20; then
    longest=$(capture view | awk '{ if (length($0) > n) n = length($0) } END { print n }')
    [ "$longest" -le 80 ] && pass "redrawn at 80x20" || fail "lines of $longest columns at 80x20"
else
    fail "not redrawn after the resize:"
    capture view
fi

if wait_until 10 pane_has view 'Window: ([2-9]|[1-9][0-9])\.'; then
    before=$(window_seconds view)
    tm send-keys -t view r
    if wait_until 10 pane_has view 'counts reset'; then
        after=$(window_seconds view)
        awk -v a="$after" -v b="$before" 'BEGIN { exit !(a < 1.5 && a < b) }' &&
            pass "r resets the window ($before s -> $after s)" ||
            fail "window after reset is $after s (was $before s)"
    else
        fail "r shows no reset"
    fi
else
    fail "the window never reached 2 s"
fi

tm send-keys -t view t
if wait_until 10 pane_has view 'View: functions, per thread'; then
    pane_has view "Thread +Function" && pass "t adds the thread column" ||
        fail "no Thread column in the per-thread view"
    wait_until 10 pane_has view "^ *[0-9.]+%.* $target [^ ]+ +(busy_|main|<module>)" &&
        pass "rows name the thread" || fail "no row names thread $target"
else
    fail "t did not switch to the per-thread view"
fi

tm send-keys -t view p
if wait_until 10 pane_has view '^Samples/s: paused '; then
    pass "p pauses sampling"
    paused_at=$(window_seconds view)
    sleep 1.5
    still=$(window_seconds view)
    [ "$still" = "$paused_at" ] && pass "no samples while paused (window stays at $still s)" ||
        fail "the window moved while paused ($paused_at s -> $still s)"
    tm send-keys -t view p
    wait_until 10 pane_has view '^Samples/s: [0-9]+ of 1000' && pass "p resumes sampling" ||
        fail "p did not resume"
else
    fail "p did not pause"
fi

tm send-keys -t view i
wait_until 10 pane_has view 'Idle: shown' && pass "i includes idle threads" ||
    fail "i did not change the idle setting"
tm send-keys -t view n
wait_until 10 pane_has view 'start cpuprof top with --native' &&
    pass "n explains it needs --native" || fail "n gave no message without --native"

tm send-keys -t view q
if wait_until 10 file_has "$work/stty"; then
    [ "$(cat "$work/exit")" = 0 ] && pass "q exits with status 0" ||
        fail "q exit status $(cat "$work/exit")"
    stty_state=$(cat "$work/stty")
    if grep -Eq '(^| )icanon( |$)' <<<"$stty_state" && grep -Eq '(^| )echo( |$)' <<<"$stty_state"; then
        pass "terminal restored (icanon echo)"
    else
        fail "terminal left in raw mode: $stty_state"
    fi
    if pane_has view '%Own|1-6 sort'; then
        fail "the table is still on screen after q"
    else
        pass "the screen is given back"
    fi
else
    fail "cpuprof did not exit on q"
fi

# --- Ctrl-C ------------------------------------------------------------------------------------
tm new-session -d -x 100 -y 24 -s interrupt \
    "'$cpuprof' top --pid $target --delay 0.5; echo \$? > '$work/exit2'; exec sleep 600"
if wait_until 20 pane_has interrupt 'busy_heavy'; then
    tm send-keys -t interrupt C-c
    if wait_until 10 file_has "$work/exit2"; then
        [ "$(cat "$work/exit2")" = 0 ] && pass "Ctrl-C exits with status 0" ||
            fail "Ctrl-C exit status $(cat "$work/exit2")"
        pane_has interrupt '%Own' && fail "table still on screen after Ctrl-C" ||
            pass "Ctrl-C gives the screen back"
    else
        fail "cpuprof did not exit on Ctrl-C"
    fi
else
    fail "second view never showed busy_heavy"
fi

# --- stdout not a terminal: plain tables until SIGINT -------------------------------------------
"$cpuprof" top --pid "$target" --delay 0.3 >"$work/plain.txt" 2>"$work/plain.err" &
plain_pid=$!
tables() { [ "$(grep -c '^cpuprof top  pid' "$work/plain.txt")" -ge 3 ]; }
if wait_until 20 tables; then
    kill -INT "$plain_pid"
    wait "$plain_pid"
    status=$?
    plain_pid=""
    [ "$status" = 0 ] && pass "plain mode stops on SIGINT with status 0" ||
        fail "plain mode exit status $status: $(cat "$work/plain.err")"
    if grep -q $'\033' "$work/plain.txt"; then
        fail "plain output contains terminal escapes"
    else
        pass "plain output has no escapes"
    fi
    first_row=$(grep -A1 -m1 -E '^ +%Own +%Total' "$work/plain.txt" | sed -n 2p)
    grep -q 'busy_heavy' <<<"$first_row" && pass "plain table's top row is busy_heavy" ||
        fail "plain table's top row: '$first_row'"
else
    fail "plain mode wrote fewer than 3 tables in 20 s: $(cat "$work/plain.err")"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
