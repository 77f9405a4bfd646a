"""Unit test of the placement benchmark's trace reading (run by ctest as bench.placement): the
target CPU time a cpuprof thread takes by preempting a target thread, from sched_switch lines."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_placement  # noqa: E402


def switch(cpu, stamp, prev_pid, prev_state, next_pid, prev_comm="python3", next_comm="x"):
    return (f"          {prev_comm}-{prev_pid}     [{cpu:03d}] d..2.  {stamp:.6f}: sched_switch: "
            f"prev_comm={prev_comm} prev_pid={prev_pid} prev_prio=120 prev_state={prev_state} "
            f"==> next_comm={next_comm} next_pid={next_pid} next_prio=120")


TARGET = {100, 101}
SAMPLER = {200}


class TargetCpuLost(unittest.TestCase):
    def test_preemption_until_a_target_thread_runs_again(self):
        trace = "\n".join([
            "# tracer: nop",
            switch(0, 10.000000, 100, "R", 200),             # the sampler preempts 100 on CPU 0
            switch(0, 10.000030, 200, "S", 7, next_comm="migration/0"),  # then the stopper
            switch(0, 10.000050, 7, "S", 100, prev_comm="migration/0"),  # 100 is back: 50 us
            switch(1, 10.000100, 0, "R", 200, prev_comm="swapper/1"),    # an idle CPU: free
            switch(1, 10.000140, 200, "S", 0, next_comm="swapper/1"),
            switch(0, 10.001000, 100, "R+", 200),            # preempted again
            switch(0, 10.001040, 200, "S", 101),             # another target thread: 40 us
        ])
        lost = bench_placement.target_cpu_lost(trace, TARGET, SAMPLER)
        self.assertEqual(lost["preemptions"], 2)
        self.assertAlmostEqual(lost["lost_s"], 90e-6, places=9)
        self.assertAlmostEqual(lost["span_s"], 1.04e-3, places=9)

    def test_a_target_thread_that_sleeps_is_not_preempted(self):
        trace = "\n".join([
            switch(0, 1.0, 100, "S", 200),   # 100 went to sleep: the sampler takes nothing
            switch(0, 1.00003, 200, "S", 101),
            switch(1, 1.0, 300, "R", 200),   # not a target thread
            switch(1, 1.00002, 200, "S", 100),
        ])
        lost = bench_placement.target_cpu_lost(trace, TARGET, SAMPLER)
        self.assertEqual(lost["preemptions"], 0)
        self.assertEqual(lost["lost_s"], 0.0)

    def test_no_switches(self):
        self.assertEqual(bench_placement.target_cpu_lost("# tracer: nop\n", TARGET, SAMPLER),
                         {"preemptions": 0, "lost_s": 0.0, "span_s": 0.0})


if __name__ == "__main__":
    unittest.main()
