"""Benchmark target: a fixed amount of pure-Python work about 30 frames deep.

Usage: python bench_target.py UNITS [THREADS] [READY_FILE]
Prints the seconds the work took (wall clock of the work only) on stdout.
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


def main():
    units = int(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if len(sys.argv) > 3:
        with open(sys.argv[3] + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    start = time.perf_counter()
    if threads == 1:
        descend(28, units)
    else:
        pool = [threading.Thread(target=descend, args=(28, units // threads)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    print(f"{time.perf_counter() - start:.6f}")


main()
