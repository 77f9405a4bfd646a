"""What sharing a CPU with the work costs it: the paired rounds with the CPUs pinned.

The paired rounds of bench.py (cpuprof resumed for one round of each pair, paused for the other)
run here under three placements, interleaved recording by recording so the host's hour weighs on
all alike:
  free      neither pinned: the kernel and cpuprof's own placement decide (what users get);
  apart     the work's threads confined to one CPU, cpuprof to another: no tick ever runs
            beside a thread of the work, so the slowdown left is what the sampler costs from
            another CPU (its reads of the work's memory, the host's sharing of the vCPUs);
  together  both confined to the same CPU: every tick preempts the work, the cost of a tick
            that runs beside it, caches included.
Pinning changes the work too (apart, a GIL-bound work's hand-overs never cross CPUs), so each
placement's slowdown is against the same placement without cpuprof, never against another's.

    bench_pinned.py [--cpuprof BUILD/src/cli/cpuprof] [--threads 4] [--recordings 6]
                    [--placements free,apart,together] [--pairs 40] [--python PATH]
"""
import argparse
import os
import statistics
import sys
import tempfile

from bench import DEFAULT_PYTHON, HERE
from bench_report import median_ci
from bench_runs import RunError, run_paired

PLACEMENTS = ("free", "apart", "together")


def placement_cpus(placement, allowed):
    """The (work, cpuprof) taskset lists of `placement` on the CPUs `allowed` (None: unpinned)."""
    if placement == "free":
        return None, None
    cpus = sorted(allowed)
    if len(cpus) < 2:
        raise RunError(f"placement {placement!r} needs two CPUs; this process may use {cpus}")
    work = str(cpus[0])
    return work, str(cpus[1]) if placement == "apart" else work


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpuprof", default=os.path.join(HERE, "../../build-release/src/cli/cpuprof"))
    parser.add_argument("--rusage-run",
                        default=os.path.join(HERE, "../../build-release/tools/bench/rusage_run"))
    parser.add_argument("--python", default=DEFAULT_PYTHON)
    parser.add_argument("--threads", type=int, default=4, help="threads of the work (default 4)")
    parser.add_argument("--recordings", type=int, default=6,
                        help="paired recordings per placement, interleaved (default 6)")
    parser.add_argument("--pairs", type=int, default=40, help="paired rounds per recording")
    parser.add_argument("--round-units", type=int, default=250, help="work units per round")
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--placements", default=",".join(PLACEMENTS),
                        help="comma-separated, of: " + ", ".join(PLACEMENTS))
    args = parser.parse_args()
    args.placements = args.placements.split(",")
    for placement in args.placements:
        if placement not in PLACEMENTS:
            parser.error(f"unknown placement {placement!r}: give some of {', '.join(PLACEMENTS)}")
    for path, what in ((args.cpuprof, "--cpuprof"), (args.rusage_run, "--rusage-run"),
                       (args.python, "--python")):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable: give {what} PATH")
    return args


def main():
    args = parse_args()
    allowed = os.sched_getaffinity(0)
    ratios = {name: [] for name in args.placements}
    sampler_us = {name: [] for name in args.placements}
    colocated = {name: [] for name in args.placements}
    with tempfile.TemporaryDirectory(prefix="cpuprof-pinned-") as tmp:
        for recording in range(args.recordings):
            for name in args.placements:
                work_cpus, cpuprof_cpus = placement_cpus(name, allowed)
                settings = {"cpuprof": args.cpuprof, "rusage_run": args.rusage_run,
                            "python": args.python, "pairs": args.pairs,
                            "round_units": args.round_units, "work_cpus": work_cpus,
                            "cpuprof_cpus": cpuprof_cpus}
                try:
                    run = run_paired(settings, {"rate": args.rate, "flags": []}, args.threads,
                                     tmp)
                except RunError as e:
                    sys.exit(f"bench_pinned: {name}: {e}")
                stats = run["stats"]
                ticks = max(stats["ticks"], 1)
                ratios[name] += run["ratios"]
                sampler_us[name].append(stats["sampler_cpu_ns"] / ticks / 1e3)
                colocated[name].append(stats.get("colocated_ticks", 0) / ticks)
                print(f"  recording {recording + 1}/{args.recordings}, {name}: "
                      f"{(statistics.median(run['ratios']) - 1) * 100:+.2f} %",
                      file=sys.stderr, flush=True)
    print(f"{args.threads}-thread work at {args.rate} Hz, by placement "
          f"(median slowdown, 95 % CI):")
    for name in args.placements:
        low, high = median_ci(ratios[name])
        line = (f"  {name:<9} {(statistics.median(ratios[name]) - 1) * 100:+.2f} % "
                f"({(low - 1) * 100:+.2f} … {(high - 1) * 100:+.2f}), {len(ratios[name])} "
                f"pairs; sampler {statistics.median(sampler_us[name]):.1f} µs per tick")
        if name == "free":
            # Pinned, cpuprof cannot move, and does not count the ticks it spends beside it.
            line += (f", {statistics.median(colocated[name]) * 100:.1f} % of ticks woke beside "
                     f"a running thread of the work")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
