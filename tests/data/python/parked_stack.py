"""Fixture for tests/unit/python/test_stack_reader.cpp: one thread parked 20 calls deep.

Usage: python parked_stack.py READY_FILE
Once the stack is built, writes READY_FILE (its pid) and sleeps in `parked` until killed, so
every read of the stack sees the same frames.
"""
import os
import sys
import time


def parked(ready):
    with open(ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(ready + ".tmp", ready)
    while True:
        time.sleep(3600)


def descend(depth, ready):
    if depth == 0:
        parked(ready)
    else:
        descend(depth - 1, ready)


descend(20, sys.argv[1])
