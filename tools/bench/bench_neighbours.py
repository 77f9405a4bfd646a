"""What a different way of waking would cost the work: one 1 kHz waker against one per CPU.

cpuprof's sampler is one thread that wakes on the CPU it last ran on; beside a GIL-bound work
whose holder changes CPU, that CPU is often the holder's own (issue 7, README "Benchmarks").
`neighbour --per-cpu` wakes instead with one SCHED_IDLE thread pinned to each CPU, the first
awake taking the deadline, so an idle CPU serves it and a busy one is not preempted. Both
neighbours burn --spin-us at each deadline and touch nothing of the work; the paired rounds of
bench.py measure the slowdown each gives, interleaved recording by recording so the host's
hour weighs on both alike.

    bench_neighbours.py --neighbour BUILD/tools/bench/neighbour [--threads 4] [--recordings 6]
                        [--spin-us 20] [--pairs 40] [--python PATH]
"""
import argparse
import os
import statistics
import sys
import tempfile

from bench import DEFAULT_PYTHON, HERE
from bench_report import median_ci
from bench_runs import RunError, run_neighbour_paired

MODES = {"one thread": (), "per-CPU, idle class": ("--per-cpu",)}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbour",
                        default=os.path.join(HERE, "../../build-release/tools/bench/neighbour"))
    parser.add_argument("--python", default=DEFAULT_PYTHON)
    parser.add_argument("--threads", type=int, default=4, help="threads of the work (default 4)")
    parser.add_argument("--recordings", type=int, default=6,
                        help="paired recordings per neighbour, interleaved (default 6)")
    parser.add_argument("--pairs", type=int, default=40, help="paired rounds per recording")
    parser.add_argument("--round-units", type=int, default=250, help="work units per round")
    parser.add_argument("--spin-us", type=float, default=20.0,
                        help="CPU burnt per deadline (default 20: cpuprof's tick above a bare "
                             "wake-up)")
    parser.add_argument("--rate", type=int, default=1000)
    args = parser.parse_args()
    for path, what in ((args.neighbour, "--neighbour"), (args.python, "--python")):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable: give {what} PATH")
    return args


def summary(ratios, reports):
    low, high = median_ci(ratios)
    line = (f"{(statistics.median(ratios) - 1) * 100:+.2f} % "
            f"({(low - 1) * 100:+.2f} … {(high - 1) * 100:+.2f}), {len(ratios)} pairs; "
            f"CPU per deadline {statistics.median(r['cpu_per_wakeup_us'] for r in reports):.1f} µs")
    if "passed" in reports[0]:
        claimed = sum(r["wakeups"] for r in reports)
        line += (f", {sum(r['late'] for r in reports) / max(claimed, 1) * 100:.1f} % late, "
                 f"{sum(r['passed'] for r in reports) / max(claimed, 1):.2f} passed wake-ups "
                 f"per deadline")
    return line


def main():
    args = parse_args()
    settings = {"neighbour": args.neighbour, "python": args.python, "pairs": args.pairs,
                "round_units": args.round_units}
    ratios = {name: [] for name in MODES}
    reports = {name: [] for name in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        for recording in range(args.recordings):
            for name, extra in MODES.items():
                try:
                    run = run_neighbour_paired(settings, args.rate, args.spin_us, args.threads,
                                               tmp, extra)
                except RunError as e:
                    sys.exit(f"bench_neighbours: {name}: {e}")
                ratios[name] += run["ratios"]
                reports[name].append(run["neighbour_report"])
                print(f"  recording {recording + 1}/{args.recordings}, {name}: "
                      f"{(statistics.median(run['ratios']) - 1) * 100:+.2f} %",
                      file=sys.stderr, flush=True)
    print(f"{args.threads}-thread work, neighbours waking at {args.rate} Hz and spinning "
          f"{args.spin_us:g} µs:")
    for name in MODES:
        print(f"  {name:<20} {summary(ratios[name], reports[name])}")


if __name__ == "__main__":
    main()
