"""Benchmark target: a fixed amount of pure-Python work about 30 frames deep.

Usage: python bench_target.py UNITS [THREADS] [READY_FILE] [GO_FILE] [DONE_FILE] [PAIRS]
Prints the seconds the work took (wall clock of the work only) on stdout. THREADS 0 is an idle
program: the main thread sleeps UNITS milliseconds instead of working.

READY_FILE is created (atomically, holding the pid) once the interpreter is up. With GO_FILE the
work waits until that file exists, spinning in Python so that a profiler attached meanwhile has a
running thread to sample; the timed work then starts with the profiler already sampling. With
DONE_FILE the process goes on spinning after the work until that file exists, so that a profiler
stopped in between never sees the interpreter shut down. Both waits end if the parent goes away.

With PAIRS, GO_FILE holds the pid of a `cpuprof record` sampling this process, and the work runs
as 2 x PAIRS rounds of UNITS each, cpuprof resumed (SIGUSR2) for one round of each pair and paused
(SIGUSR1) for the other, in the order on-off, off-on, on-off ... so that a drift of the machine's
speed touches both alike. Adjacent rounds see the same machine: on a shared VM whose speed drifts
by tens of percent between runs, the ratio of paired rounds still resolves a 1 % slowdown.
Prints one JSON line {"on": [seconds...], "off": [seconds...]} (pair i is on[i], off[i]).
"""
import json
import os
import signal
import sys
import threading
import time

SETTLE_S = 0.003  # a pause or resume takes effect at cpuprof's next tick


def work(units):
    x = 0
    for _ in range(units):
        for i in range(10000):
            x += i % 7
    return x


def descend(depth, units):
    if depth == 0:
        return work(units)
    return descend(depth - 1, units)


def wait_for(path):
    parent = os.getppid()
    while not os.path.exists(path) and os.getppid() == parent:
        x = 0
        for i in range(2000):
            x += i


def timed_work(units, threads):
    start = time.perf_counter()
    if threads == 0:
        time.sleep(units / 1000)
    elif threads == 1:
        descend(28, units)
    else:
        share = units // threads
        pool = [threading.Thread(target=descend, args=(28, share)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    return time.perf_counter() - start


def paired_rounds(units, threads, pairs, cpuprof_pid):
    times = {"on": [], "off": []}
    for pair in range(pairs):
        order = ("on", "off") if pair % 2 == 0 else ("off", "on")
        for state in order:
            os.kill(cpuprof_pid, signal.SIGUSR2 if state == "on" else signal.SIGUSR1)
            time.sleep(SETTLE_S)
            times[state].append(timed_work(units, threads))
    os.kill(cpuprof_pid, signal.SIGUSR2)
    return times


def main():
    units = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    pairs = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    if len(sys.argv) > 3:
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    if len(sys.argv) > 4:
        wait_for(sys.argv[4])
    if pairs:
        with open(sys.argv[4]) as f:
            cpuprof_pid = int(f.read())
        print(json.dumps(paired_rounds(units, threads, pairs, cpuprof_pid)), flush=True)
    else:
        print(f"{timed_work(units, threads):.6f}", flush=True)
    if len(sys.argv) > 5:
        wait_for(sys.argv[5])


main()
