"""Fixture for tests/unit/sampling/test_cpu_placement.cpp: one thread spinning on one CPU.

Usage: python pinned_spin.py READY_FILE CPU
Restricts itself to CPU, writes READY_FILE (its pid) once it runs there, and spins in Python
until killed, so the kernel's record of its CPU (its rseq cpu_id) is CPU throughout.
"""
import os
import sys

cpu = int(sys.argv[2])
os.sched_setaffinity(0, {cpu})
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
spins = 0
while True:
    spins += 1
