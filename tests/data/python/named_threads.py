"""Fixture for tests/unit/python/test_thread_names.cpp: threads with known names, parked.

Usage: python named_threads.py READY_FILE
Once every thread runs, writes READY_FILE (JSON: a list of [ident, name], the main thread
first) and waits to be killed.
"""
import json
import os
import sys
import threading

stop = threading.Event()
running = threading.Barrier(5)


def park():
    running.wait()
    stop.wait()


class Worker(threading.Thread):
    """A subclass with attributes of its own, set before Thread's, and a materialised __dict__."""

    def __init__(self):
        self.payload = list(range(3))
        self.retries = 0
        super().__init__(target=park, name="\u5de5\u4eba-\U0001f525", daemon=True)
        vars(self)["extra"] = True


threads = [
    threading.Thread(target=park, name="sleepy-worker", daemon=True),
    threading.Thread(target=park, name="W\u00f6rker-\u00df", daemon=True),
    threading.Thread(target=park, daemon=True),
    Worker(),
]
for thread in threads:
    thread.start()
running.wait()

every = [threading.main_thread()] + threads
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump([[t.ident, t.name] for t in every], f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
stop.wait()
