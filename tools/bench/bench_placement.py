"""Where the sampler runs: how much CPU it takes from the target's own threads, by the kernel's trace.

A sampler that wakes on a CPU a target thread is running on preempts that thread for the whole
tick; one that wakes on an idle CPU costs the target nothing. The paired rounds measure the
slowdown this causes, to within about a percent on these VMs; the scheduler's trace counts it
exactly: every switch from a runnable (preempted) target thread to a cpuprof thread starts an
interval that ends when a target thread runs on that CPU again, and their sum is the target CPU
time lost to the sampler. Needs root (tracefs); a tracefs instance of its own is used, the
global trace is left as it was.

Run alone: bench_placement.py --cpuprof A [--cpuprof B ...] [--rounds N] [--threads N]
interleaves the executables (e.g. two builds) and prints each one's medians.
"""
import argparse
import errno
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from bench_runs import BENCH_TARGET, Recording, RunError, fresh_paths, wait_ready

TRACEFS = "/sys/kernel/tracing"
EVENTS = ("sched/sched_switch",)
LINE = re.compile(r"^\s*.+?-\d+\s+\[(\d+)\]\s+\S+\s+([\d.]+): sched_switch: (.*)$")
SWITCH = re.compile(r"prev_pid=(\d+) prev_prio=-?\d+ prev_state=(\S+) ==> "
                    r"next_comm=.* next_pid=(\d+)")


def target_cpu_lost(trace_text, target_tids, sampler_tids):
    """From sched_switch lines: how often a cpuprof thread preempted a running target thread,
    and for how long in all no target thread ran on that CPU. Returns the counts, the seconds
    lost and the seconds the trace spans."""
    open_since = {}
    preemptions = 0
    lost_s = 0.0
    first = last = None
    for line in trace_text.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        cpu, stamp, fields = int(match.group(1)), float(match.group(2)), match.group(3)
        switch = SWITCH.search(fields)
        if not switch:
            continue
        first = stamp if first is None else first
        last = stamp
        prev_pid, prev_state, next_pid = int(switch.group(1)), switch.group(2), int(switch.group(3))
        if (prev_pid in target_tids and prev_state.startswith("R") and next_pid in sampler_tids
                and cpu not in open_since):
            open_since[cpu] = stamp
            preemptions += 1
        elif next_pid in target_tids and cpu in open_since:
            lost_s += stamp - open_since.pop(cpu)
    span_s = (last - first) if first is not None else 0.0
    return {"preemptions": preemptions, "lost_s": lost_s, "span_s": span_s}


class TraceInstance:
    """A tracefs instance recording sched_switch on every CPU."""

    def __init__(self):
        if not os.path.isdir(os.path.join(TRACEFS, "instances")):
            subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], capture_output=True)
        self.dir = os.path.join(TRACEFS, "instances", f"cpuprof-bench-{os.getpid()}")
        try:
            os.mkdir(self.dir)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise RunError(f"no tracefs instance ({e.strerror}): run as root") from e
        self._write("tracing_on", "0")
        self._write("buffer_size_kb", "16384")
        for event in EVENTS:
            self._write(f"events/{event}/enable", "1")

    def _write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def record(self, seconds):
        self._write("trace", "")
        self._write("tracing_on", "1")
        time.sleep(seconds)
        self._write("tracing_on", "0")
        with open(os.path.join(self.dir, "trace")) as f:
            return f.read()

    def close(self):
        for event in EVENTS:
            self._write(f"events/{event}/enable", "0")
        os.rmdir(self.dir)


def tids_of(pid):
    return {int(t) for t in os.listdir(f"/proc/{pid}/task")}


def placement_run(settings, threads, tmp, trace, seconds=2.0):
    """One recording at 1 kHz of the work in `threads` threads, traced for `seconds` in its
    middle."""
    ready, out_json = fresh_paths(tmp, "placement-ready", "placement.json")
    target = subprocess.Popen([settings["python"], BENCH_TARGET, "1000000", str(threads), ready],
                              stdout=subprocess.DEVNULL)
    rec = None
    try:
        pid = wait_ready(ready, target)
        rec = Recording(settings, pid, 1000, [], out_json, duration_s=seconds + 1.5)
        rec.wait_first_sample()
        time.sleep(0.3)
        cpuprof_pid = rec.cpuprof_pid()
        if cpuprof_pid is None:
            raise RunError(f"cpuprof stopped: {rec.watcher.problem()}")
        target_tids, sampler_tids = tids_of(pid), tids_of(cpuprof_pid)
        text = trace.record(seconds)
        profile = rec.reap()
    finally:
        if rec is not None:
            rec.kill()
        target.kill()
        target.wait()
    lost = target_cpu_lost(text, target_tids, sampler_tids)
    span = max(lost["span_s"], 1e-9)
    stats = profile["stats"]
    ticks = max(stats["ticks"], 1)
    return {
        "sampler_preemptions_per_s": lost["preemptions"] / span,
        "target_cpu_lost_ms_per_s": lost["lost_s"] / span * 1e3,
        "lost_us_per_preemption": lost["lost_s"] / max(lost["preemptions"], 1) * 1e6,
        "colocated_tick_fraction": stats.get("colocated_ticks", 0) / ticks,
        "sampler_moves_per_s": stats.get("sampler_moves", 0) / profile["duration_s"],
        "sampler_us_per_tick": stats["sampler_cpu_ns"] / ticks / 1e3,
    }


def bench_placement(settings, threads, tmp, rounds=3):
    """Medians of `rounds` traced recordings of the `threads`-thread work."""
    try:
        trace = TraceInstance()
    except (RunError, OSError) as e:
        return {"available": False, "error": str(e)}
    try:
        runs = [placement_run(settings, threads, tmp, trace) for _ in range(rounds)]
    except RunError as e:
        return {"available": False, "error": str(e)}
    finally:
        trace.close()
    return {"available": True, "threads": threads, "rounds": rounds,
            **{key: statistics.median(run[key] for run in runs) for key in runs[0]}}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpuprof", action="append", required=True)
    parser.add_argument("--rusage-run", default=os.path.join(here, "../../build/tools/bench/rusage_run"))
    parser.add_argument("--python", default="/root/.pyenv/versions/3.12.1/bin/python3.12")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {name: [] for name in args.cpuprof}
    with tempfile.TemporaryDirectory(prefix="cpuprof-placement-") as tmp:
        trace = TraceInstance()
        try:
            for _ in range(args.rounds):
                for name in args.cpuprof:
                    settings = {"cpuprof": name, "rusage_run": args.rusage_run,
                                "python": args.python}
                    results[name].append(placement_run(settings, args.threads, tmp, trace))
        finally:
            trace.close()
    for name, runs in results.items():
        medians = {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}
        print(name, json.dumps(medians))
    return 0


if __name__ == "__main__":
    sys.exit(main())
