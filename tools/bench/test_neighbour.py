"""The benchmark's neighbour (neighbour.cpp) wakes at its rate while resumed and not at all while
paused, as cpuprof's sampler does: otherwise the paired rounds would compare the work beside a
process waking at 1 kHz with the work beside the same process, and miss what the wake-ups cost.
Run by ctest as bench.neighbour with the neighbour's path; no timing is asserted beyond counting
wake-ups (voluntary context switches) over a few hundred milliseconds.

    test_neighbour.py PATH_TO_NEIGHBOUR
"""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_runs import wait_caught  # noqa: E402

NEIGHBOUR = None
WINDOW_S = 0.3


def voluntary_switches(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f
                    if line.startswith("voluntary_ctxt_switches:"))


def switches_over(pid, seconds):
    before = voluntary_switches(pid)
    time.sleep(seconds)
    return voluntary_switches(pid) - before


class Neighbour(unittest.TestCase):
    def test_wakes_only_while_resumed(self):
        proc = subprocess.Popen([NEIGHBOUR, "1000", "5"], stdout=subprocess.PIPE, text=True)
        try:
            wait_caught(proc, (signal.SIGUSR1, signal.SIGUSR2))
            running = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.05)  # the wake-up that sees the flag
            paused = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGUSR2)
            time.sleep(0.05)
            resumed = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # 300 deadlines in each window at 1 kHz; a loaded machine delays some, not most.
        self.assertGreater(running, 100)
        self.assertGreater(resumed, 100)
        self.assertLessEqual(paused, 2)
        self.assertEqual(proc.returncode, 0)
        report = json.loads(out)
        self.assertEqual(report["rate_hz"], 1000)
        # Wake-ups are counted only while resumed: at most the ~0.75 s unpaused at 1 kHz.
        self.assertGreater(report["wakeups"], running + resumed - 50)
        self.assertLess(report["wakeups"], 1000)
        self.assertGreaterEqual(report["cpu_per_wakeup_us"], 5)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_neighbour.py PATH_TO_NEIGHBOUR")
    NEIGHBOUR = sys.argv.pop(1)
    unittest.main()
