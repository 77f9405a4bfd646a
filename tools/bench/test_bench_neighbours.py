"""Unit test of bench_neighbours.py's campaign (run by ctest as bench.neighbours): which rows a
campaign runs in each recording, cpuprof among them when asked, the refusal of a path that is
not an executable, and the lines it prints for a neighbour's row and for cpuprof's."""
import contextlib
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_neighbours  # noqa: E402

EXE = sys.executable  # an executable file, standing for each tool


def parse(*argv):
    return bench_neighbours.parse_args(["--neighbour", EXE, "--python", EXE, *argv])


class Rows(unittest.TestCase):
    def test_both_neighbours_by_default(self):
        self.assertEqual(bench_neighbours.rows(parse()),
                         [("one thread", ()), ("per-CPU, idle class", ("--per-cpu",))])

    def test_cpuprof_first_then_the_chosen_neighbour(self):
        args = parse("--cpuprof", EXE, "--rusage-run", EXE, "--modes", "one")
        self.assertEqual(bench_neighbours.rows(args), [("cpuprof", None), ("one thread", ())])

    def test_a_mode_given_twice_runs_once(self):
        args = parse("--modes", "per-cpu", "--modes", "per-cpu")
        self.assertEqual(bench_neighbours.rows(args), [("per-CPU, idle class", ("--per-cpu",))])

    def test_a_cpuprof_that_is_not_an_executable_is_refused(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), self.assertRaises(SystemExit) as done:
            parse("--cpuprof", "/nonexistent/cpuprof", "--rusage-run", EXE)
        self.assertEqual(done.exception.code, 2)
        self.assertIn("/nonexistent/cpuprof is not an executable: give --cpuprof PATH",
                      err.getvalue())


class Summary(unittest.TestCase):
    RATIOS = [1.00, 1.01, 1.02, 1.02, 1.03, 1.04, 1.05]

    def test_cpuprof_row_has_the_slowdown_alone(self):
        line = bench_neighbours.summary(self.RATIOS, [])
        self.assertTrue(line.startswith("+2.00 % ("), line)
        self.assertTrue(line.endswith("), 7 pairs"), line)

    def test_per_cpu_row_says_how_late_and_contended(self):
        reports = [{"cpu_per_wakeup_us": 12.0, "wakeups": 100, "late": 3, "passed": 30},
                   {"cpu_per_wakeup_us": 14.0, "wakeups": 100, "late": 1, "passed": 40}]
        line = bench_neighbours.summary(self.RATIOS, reports)
        self.assertIn("7 pairs; CPU per deadline 13.0 µs, 2.0 % late, 0.35 passed wake-ups "
                      "per deadline", line)


if __name__ == "__main__":
    unittest.main()
