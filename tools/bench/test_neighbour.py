"""The benchmark's neighbour (neighbour.cpp) wakes at its rate while resumed and not at all while
paused, as cpuprof's sampler does: otherwise the paired rounds would compare the work beside a
process waking at 1 kHz with the work beside the same process, and miss what the wake-ups cost.
With --per-cpu it runs one SCHED_IDLE thread pinned to each CPU, and each deadline is taken by
one of them at most. Run by ctest as bench.neighbour with the neighbour's path; no timing is
asserted beyond counting wake-ups (voluntary context switches) over a few hundred milliseconds.

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
    """Summed over the process's threads (--per-cpu has one per CPU)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith("voluntary_ctxt_switches:"))
        except FileNotFoundError:
            pass  # a thread that ended
    return total


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

    def test_per_cpu_wakes_one_idle_thread_per_cpu_and_claims_each_deadline_once(self):
        cpus = sorted(os.sched_getaffinity(0))
        started = time.monotonic()  # before the process: its deadlines cannot start earlier
        proc = subprocess.Popen([NEIGHBOUR, "1000", "5", "--per-cpu"], stdout=subprocess.PIPE,
                                text=True)
        try:
            wait_caught(proc, (signal.SIGUSR1, signal.SIGUSR2))
            # Each thread pins itself and enters SCHED_IDLE after it is born: wait until all
            # have (or 10 s have passed), not merely until they exist.
            deadline = time.monotonic() + 10
            while True:
                workers = sorted(int(tid) for tid in os.listdir(f"/proc/{proc.pid}/task")
                                 if int(tid) != proc.pid)
                pinned = sorted(next(iter(os.sched_getaffinity(tid))) for tid in workers
                                if len(os.sched_getaffinity(tid)) == 1)
                policies = {os.sched_getscheduler(tid) for tid in workers}
                if (pinned == cpus and policies == {os.SCHED_IDLE}) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            running = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGUSR1)
            paused_at = time.monotonic()
            time.sleep(0.05)  # each thread's wake-up that sees the flag
            paused = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGUSR2)
            resumed_at = time.monotonic()
            resumed = switches_over(proc.pid, WINDOW_S)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=10)
            stopped = time.monotonic()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 0)
        self.assertEqual(pinned, cpus)  # one thread on each CPU, pinned there
        self.assertEqual(policies, {os.SCHED_IDLE})
        self.assertGreater(running, 100)
        self.assertGreater(resumed, 100)
        # The main thread waits in sigwaitinfo: only the signal's own wake-up may be seen.
        self.assertLessEqual(paused, 2)
        report = json.loads(out)
        self.assertTrue(report["per_cpu"])
        self.assertEqual(report["threads"], len(cpus))
        # Each deadline of the unpaused time is claimed once at most, by one thread.
        unpaused_s = (paused_at - started) + (stopped - resumed_at)
        self.assertGreater(report["wakeups"], 2 * WINDOW_S * 1000 - 100)
        self.assertLessEqual(report["wakeups"], unpaused_s * 1000 + 50)
        # Each thread wakes once per deadline at most, whether it claims it or finds it taken.
        self.assertLessEqual(report["wakeups"] + report["passed"],
                             len(cpus) * (unpaused_s * 1000 + 50))
        self.assertLessEqual(report["late"], report["wakeups"])


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: test_neighbour.py PATH_TO_NEIGHBOUR")
    NEIGHBOUR = sys.argv.pop(1)
    unittest.main()
