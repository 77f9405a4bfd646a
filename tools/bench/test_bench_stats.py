"""Unit tests of the benchmark's statistics: the median's confidence interval and the pooling of
paired recordings (run by ctest as bench.stats; no timing is asserted)."""
import os
import statistics
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import bench_report  # noqa: E402


class MedianCi(unittest.TestCase):
    def test_brackets_the_median_by_the_binomial_ranks(self):
        xs = list(range(100))  # given shuffled: the interval does not depend on the order
        low, high = bench_report.median_ci(xs[::-1])
        # n = 100: ranks floor((100 - 1.96 * 10) / 2) = 40 and 100 - 1 - 40 = 59 (0-based)
        self.assertEqual((low, high), (40, 59))
        self.assertLessEqual(low, statistics.median(xs))
        self.assertGreaterEqual(high, statistics.median(xs))

    def test_narrows_as_pairs_are_added(self):
        widths = []
        for n in (40, 320, 1200):
            low, high = bench_report.median_ci(range(n))
            widths.append((high - low) / n)
        self.assertGreater(widths[0], widths[1])
        self.assertGreater(widths[1], widths[2])

    def test_small_and_empty_samples(self):
        self.assertEqual(bench_report.median_ci([1.02]), (1.02, 1.02))
        self.assertEqual(bench_report.median_ci([1.0, 2.0, 3.0]), (1.0, 3.0))
        with self.assertRaises(ValueError):
            bench_report.median_ci([])


class Pooling(unittest.TestCase):
    def test_pairs_are_pooled_and_counters_summed(self):
        runs = iter([
            {"ratios": [1.0, 1.1], "on_s": [1.0, 1.1], "off_s": [1.0, 1.0],
             "stats": {"ticks": 100, "sampler_cpu_ns": 2000, "note": "x"}},
            {"ratios": [0.9, 1.3, 1.2], "on_s": [0.9, 1.3, 1.2], "off_s": [1.0, 1.0, 1.0],
             "stats": {"ticks": 50, "sampler_cpu_ns": 1000, "note": "y"}},
        ])
        merged = bench.pooled(lambda: next(runs), 2)
        self.assertEqual(merged["ratios"], [1.0, 1.1, 0.9, 1.3, 1.2])
        self.assertEqual(merged["off_s"], [1.0] * 5)
        self.assertEqual(merged["recordings"], 2)
        self.assertEqual([round(m, 6) for m in merged["recording_medians_pct"]], [5.0, 20.0])
        self.assertEqual(merged["stats"], {"ticks": 150, "sampler_cpu_ns": 3000})

    def test_figures_of_pooled_pairs(self):
        run = {"ratios": [0.98, 1.0, 1.01, 1.02, 1.05], "on_s": [1.0] * 5, "off_s": [2.0] * 5}
        figures = bench.paired_figures(run)
        self.assertEqual(figures["pairs"], 5)
        self.assertAlmostEqual(figures["slowdown_pct"], 1.0)
        self.assertLessEqual(figures["ci_low_pct"], figures["slowdown_pct"])
        self.assertGreaterEqual(figures["ci_high_pct"], figures["slowdown_pct"])
        self.assertAlmostEqual(figures["round_s"], 2.0)

class Targets(unittest.TestCase):
    @staticmethod
    def paired_row(pct, low, high):
        return {"available": True, "slowdown_pct": pct, "ci_low_pct": low, "ci_high_pct": high}

    @staticmethod
    def target(results, name):
        return {t["name"]: t for t in bench_report.targets(results)}[name]

    def test_both_workloads_are_held_to_the_slowdown_target(self):
        single = {"1 kHz": self.paired_row(0.2, -0.1, 0.6),
                  bench_report.NEIGHBOUR: self.paired_row(-0.1, -0.3, 0.1),
                  bench_report.WAKER: self.paired_row(0.05, -0.2, 0.3)}
        multi = {"1 kHz": self.paired_row(2.4, 1.9, 3.1),
                 bench_report.NEIGHBOUR: self.paired_row(2.7, 2.0, 3.3),
                 bench_report.WAKER: self.paired_row(1.7, 1.0, 2.4)}
        results = {"paired": {"single": {"threads": 1, "configs": single},
                              "multi": {"threads": 4, "configs": multi}}}
        found = {t["name"]: t for t in bench_report.targets(results)}
        one = found["slowdown at 1 kHz"]
        self.assertEqual((one["value"], one["met"]), (0.2, True))
        four = found["slowdown at 1 kHz, 4 threads"]
        self.assertEqual((four["value"], four["met"], four["limit"]), (2.4, False, 1))
        self.assertIn("-0.10..+0.60", one["note"])
        self.assertIn("+1.90..+3.10", four["note"])
        self.assertIn("touching nothing: +2.70 %", four["note"])
        self.assertIn("only wakes at 1 kHz: +1.70 %", four["note"])
        self.assertIn("only wakes at 1 kHz: +0.05 %", one["note"])
        single["200 Hz --native"] = self.paired_row(2.5, 1.9, 3.9)
        native = self.target(results, "slowdown with --native at 200 Hz")
        self.assertEqual(native["note"], "paired rounds (95 % CI of the median +1.90..+3.90 %)")

    def test_the_kernels_wake_placement_explains_the_threads_row(self):
        multi = {"1 kHz": self.paired_row(1.8, 1.5, 2.1)}
        results = {"paired": {"multi": {"threads": 4, "configs": multi}},
                   "wake_placement": {"kept_on_busy_pct": 91.3, "moved_to_busy_pct": 0.0,
                                      "sched_vcpu_pack": "15"}}
        four = self.target(results, "slowdown at 1 kHz, 4 threads")
        self.assertTrue(four["note"].endswith(
            "; this kernel wakes a 1 kHz sleeper on its busy last CPU 91 % of the time with "
            "another CPU idle (kernel.sched_vcpu_pack = 15)"), four["note"])
        self.assertIn("+1.50..+2.10", four["note"])
        results["wake_placement"]["sched_vcpu_pack"] = None
        four = self.target(results, "slowdown at 1 kHz, 4 threads")
        self.assertTrue(four["note"].endswith("91 % of the time with another CPU idle"))
        one = self.target(results, "slowdown at 1 kHz")
        self.assertNotIn("sleeper", one["note"])  # one thread never moves onto the sampler
        results["wake_placement"] = None  # no tool, or one CPU
        four = self.target(results, "slowdown at 1 kHz, 4 threads")
        self.assertNotIn("sleeper", four["note"])

    def test_whole_runs_stand_in_without_paired_rounds(self):
        results = {"slowdown": {"multi": {"configs": {
            "1 kHz": {"summary": {"slowdown_pct": 0.7}}}}},
            "paired": {"multi": {"threads": 4, "configs": {}}}}
        four = self.target(results, "slowdown at 1 kHz, 4 threads")
        self.assertEqual((four["value"], four["met"]), (0.7, True))
        self.assertEqual(four["note"], "medians of whole runs")


if __name__ == "__main__":
    unittest.main()
