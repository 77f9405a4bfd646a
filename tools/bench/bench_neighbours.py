"""What a different way of waking would cost the work: one 1 kHz waker against one per CPU.

cpuprof's sampler is one thread that wakes on the CPU it last ran on; beside a GIL-bound work
whose holder changes CPU, that CPU is often the holder's own (issue 7, README "Benchmarks").
`neighbour --per-cpu` wakes instead with one SCHED_IDLE thread pinned to each CPU, the first
awake taking the deadline, so an idle CPU serves it and a busy one is not preempted. Both
neighbours burn --spin-us at each deadline and touch nothing of the work; the paired rounds of
bench.py measure the slowdown each gives, interleaved recording by recording so the host's
hour weighs on both alike.

With --cpuprof, cpuprof itself recording at --rate is a row too, interleaved with the
neighbours: with --spin-us 0 --modes one, cpuprof against a process that does nothing but wake
at the same rate, the floor under any sampler of that rate on this machine.

    bench_neighbours.py --neighbour BUILD/tools/bench/neighbour [--threads 4] [--recordings 6]
                        [--spin-us 20] [--pairs 40] [--python PATH] [--modes one|per-cpu ...]
                        [--cpuprof BUILD/src/cli/cpuprof [--rusage-run PATH]]
"""
import argparse
import os
import statistics
import sys
import tempfile

from bench import DEFAULT_PYTHON, HERE
from bench_report import median_ci
from bench_runs import RunError, run_neighbour_paired, run_paired

MODES = {"one thread": (), "per-CPU, idle class": ("--per-cpu",)}
MODE_CHOICES = {"one": "one thread", "per-cpu": "per-CPU, idle class"}
CPUPROF_ROW = "cpuprof"


def parse_args(argv=None):
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
    parser.add_argument("--modes", action="append", choices=sorted(MODE_CHOICES),
                        help="neighbour rows to run (repeatable; default both)")
    parser.add_argument("--cpuprof", help="also cpuprof recording at --rate, interleaved")
    parser.add_argument("--rusage-run",
                        default=os.path.join(HERE, "../../build-release/tools/bench/rusage_run"))
    return check_args(parser, parser.parse_args(argv))


def check_args(parser, args):
    needed = [(args.neighbour, "--neighbour"), (args.python, "--python")]
    if args.cpuprof:
        needed += [(args.cpuprof, "--cpuprof"), (args.rusage_run, "--rusage-run")]
    for path, what in needed:
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable: give {what} PATH")
    return args


def rows(args):
    """The rows of a campaign, in the order each recording runs them: (name, neighbour's extra
    arguments, or None for cpuprof)."""
    names = [MODE_CHOICES[m] for m in args.modes] if args.modes else list(MODES)
    out = [(name, MODES[name]) for name in dict.fromkeys(names)]
    if args.cpuprof:
        out.insert(0, (CPUPROF_ROW, None))
    return out


def summary(ratios, reports):
    """One row's line: the median slowdown and its 95 % interval; for a neighbour (`reports`
    not empty) its CPU per deadline, and for one per CPU how late and how contended it was."""
    low, high = median_ci(ratios)
    line = (f"{(statistics.median(ratios) - 1) * 100:+.2f} % "
            f"({(low - 1) * 100:+.2f} … {(high - 1) * 100:+.2f}), {len(ratios)} pairs")
    if not reports:
        return line
    line += (f"; CPU per deadline "
             f"{statistics.median(r['cpu_per_wakeup_us'] for r in reports):.1f} µs")
    if "passed" in reports[0]:
        claimed = sum(r["wakeups"] for r in reports)
        line += (f", {sum(r['late'] for r in reports) / max(claimed, 1) * 100:.1f} % late, "
                 f"{sum(r['passed'] for r in reports) / max(claimed, 1):.2f} passed wake-ups "
                 f"per deadline")
    return line


def main():
    args = parse_args()
    settings = {"neighbour": args.neighbour, "python": args.python, "pairs": args.pairs,
                "round_units": args.round_units, "cpuprof": args.cpuprof,
                "rusage_run": args.rusage_run}
    campaign = rows(args)
    ratios = {name: [] for name, _ in campaign}
    reports = {name: [] for name, _ in campaign}
    with tempfile.TemporaryDirectory() as tmp:
        for recording in range(args.recordings):
            for name, extra in campaign:
                try:
                    if extra is None:
                        run = run_paired(settings, {"rate": args.rate, "flags": []},
                                         args.threads, tmp)
                    else:
                        run = run_neighbour_paired(settings, args.rate, args.spin_us,
                                                   args.threads, tmp, extra)
                        reports[name].append(run["neighbour_report"])
                except RunError as e:
                    sys.exit(f"bench_neighbours: {name}: {e}")
                ratios[name] += run["ratios"]
                print(f"  recording {recording + 1}/{args.recordings}, {name}: "
                      f"{(statistics.median(run['ratios']) - 1) * 100:+.2f} %",
                      file=sys.stderr, flush=True)
    print(f"{args.threads}-thread work, neighbours waking at {args.rate} Hz and spinning "
          f"{args.spin_us:g} µs" + (f", cpuprof recording at {args.rate} Hz:" if args.cpuprof
                                   else ":"))
    for name, _ in campaign:
        print(f"  {name:<20} {summary(ratios[name], reports[name])}")


if __name__ == "__main__":
    main()
