"""Unit test of the pinned placements of bench_pinned.py (run by ctest as bench.pinned): which
CPUs each placement gives the work and cpuprof, and that a pinned command really runs there."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_pinned  # noqa: E402
from bench_runs import RunError, pinned  # noqa: E402


class PlacementCpus(unittest.TestCase):
    def test_free_pins_nothing(self):
        self.assertEqual(bench_pinned.placement_cpus("free", {0, 1}), (None, None))

    def test_apart_and_together_on_the_lowest_two_allowed(self):
        self.assertEqual(bench_pinned.placement_cpus("apart", {5, 2, 7}), ("2", "5"))
        self.assertEqual(bench_pinned.placement_cpus("together", {5, 2, 7}), ("2", "2"))

    def test_one_cpu_is_not_enough(self):
        with self.assertRaisesRegex(RunError, "needs two CPUs"):
            bench_pinned.placement_cpus("apart", {3})


class Pinned(unittest.TestCase):
    def test_unpinned_command_is_unchanged(self):
        self.assertEqual(pinned(["python3", "-c", "1"], None), ["python3", "-c", "1"])

    def test_pinned_command_runs_on_that_cpu_only(self):
        cpu = max(os.sched_getaffinity(0))
        code = "import os; print(sorted(os.sched_getaffinity(0)))"
        out = subprocess.run(pinned([sys.executable, "-c", code], cpu), capture_output=True,
                             text=True, check=True).stdout
        self.assertEqual(out.strip(), f"[{cpu}]")

    def test_pinned_command_keeps_its_pid(self):
        # bench_runs finds cpuprof as rusage_run's child and the work by the pid it writes:
        # taskset must exec the command, not run it as a child of its own.
        proc = subprocess.Popen(pinned([sys.executable, "-c", "import os; print(os.getpid())"],
                                       min(os.sched_getaffinity(0))),
                                stdout=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(int(out), proc.pid)


if __name__ == "__main__":
    unittest.main()
