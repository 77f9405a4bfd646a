"""wake_placement (wake_placement.cpp) counts where the kernel wakes a thread whose last CPU is
kept busy by a pinned spinner, and, as a control, one whose last CPU is idle. Run by ctest as
bench.wake_placement with the tool's path. What the kernel decides for a busy last CPU varies
between kernels and is only reported; the control is asserted, because every Linux scheduler
wakes a thread on its idle last CPU: a tool that moved to the wrong CPU, or read the CPU before
the wake-up, would fail it.

    test_wake_placement.py PATH_TO_WAKE_PLACEMENT
"""
import json
import os
import subprocess
import sys
import unittest

TOOL = None


def run(*args, taskset=None):
    cmd = ([] if taskset is None else ["taskset", "-c", taskset]) + [TOOL, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@unittest.skipIf(len(os.sched_getaffinity(0)) < 2, "needs 2 CPUs")
class WakePlacement(unittest.TestCase):
    def test_reports_both_phases_and_the_control_wakes_on_the_idle_cpu(self):
        done = run("1000", "0.6")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        cpus = sorted(os.sched_getaffinity(0))
        self.assertEqual((report["busy_cpu"], report["idle_cpu"]), (cpus[0], cpus[1]))
        self.assertEqual((report["rate_hz"], report["duty_pct"]), (1000, 100))
        # 600 wake-ups alternate between the phases; the spinner spins throughout.
        self.assertGreater(report["wakes_prev_busy"], 200)
        self.assertGreater(report["wakes_prev_idle"], 200)
        self.assertLessEqual(report["wakes_prev_busy"] + report["wakes_prev_idle"], 600)
        self.assertTrue(0.0 <= report["kept_on_busy_pct"] <= 100.0)
        self.assertLess(report["moved_to_busy_pct"], 10.0)
        pack = report["sched_vcpu_pack"]
        if os.path.exists("/proc/sys/kernel/sched_vcpu_pack"):
            with open("/proc/sys/kernel/sched_vcpu_pack") as f:
                self.assertEqual(pack, f.read().strip())
        else:
            self.assertIsNone(pack)

    def test_duty_below_full_counts_only_wakes_while_spinning(self):
        done = run("1000", "0.6", "--duty", "30")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(report["duty_pct"], 30)
        counted = report["wakes_prev_busy"] + report["wakes_prev_idle"]
        # The spinner spins 3 ms of every 10: about 180 of the 600 wake-ups find it spinning.
        self.assertGreater(counted, 60)
        self.assertLess(counted, 400)

    def test_one_cpu_or_bad_arguments_are_refused_with_one_line(self):
        one = run("1000", "0.1", taskset="0")
        self.assertEqual(one.returncode, 2)
        self.assertEqual(one.stdout, "")
        self.assertIn("needs at least 2 allowed CPUs", one.stderr)
        self.assertEqual(len(one.stderr.strip().splitlines()), 1)
        for args in (["1000"], ["0", "1"], ["1000", "1", "--duty", "5"], ["1000", "1", "-x"]):
            bad = run(*args)
            self.assertEqual(bad.returncode, 2, args)
            self.assertEqual(len(bad.stderr.strip().splitlines()), 1, args)


if __name__ == "__main__":
    TOOL = sys.argv.pop(1)
    unittest.main()
