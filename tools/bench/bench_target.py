"""Benchmark target: a fixed amount of pure-Python work about 30 frames deep.

Usage: python bench_target.py UNITS [THREADS] [READY_FILE] [GO_FILE] [DONE_FILE]
Prints the seconds the work took (wall clock of the work only) on stdout.

READY_FILE is created (atomically, holding the pid) once the interpreter is up. With GO_FILE the
work waits until that file exists, spinning in Python so that a profiler attached meanwhile has a
running thread to sample; the timed work then starts with the profiler already sampling. With
DONE_FILE the process goes on spinning after the work until that file exists, so that a profiler
stopped in between never sees the interpreter shut down. Both waits end if the parent goes away.
"""
import os
import sys
import threading
import time


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


def main():
    units = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if len(sys.argv) > 3:
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    if len(sys.argv) > 4:
        wait_for(sys.argv[4])
    start = time.perf_counter()
    if threads == 1:
        descend(28, units)
    else:
        share = units // threads
        pool = [threading.Thread(target=descend, args=(28, share)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    print(f"{time.perf_counter() - start:.6f}", flush=True)
    if len(sys.argv) > 5:
        wait_for(sys.argv[5])


main()
