#!/usr/bin/env python3
"""cpuprof's benchmark: what profiling costs the target and what it costs cpuprof.

Prints a table and writes every figure as JSON (tools/bench/results.json or --json PATH):
- slowdown of a fixed amount of pure-Python work ~30 frames deep (bench_target.py), single- and
  multi-threaded, with cpuprof attached at 100 Hz, 1 kHz, 10 kHz, --blocking and --native, each a
  median of several runs against the same work without cpuprof;
- cpuprof's CPU time per sample (whole process from wait4, and the sampling thread alone), the
  sample yield (samples / expected ticks) and the time from starting cpuprof to its first sample;
- cpuprof's RSS over a long recording of a target with 10k unique call paths (many_stacks.py);
- the time to write each output format for a profile of 100k unique stacks (output_bench).
Run by hand or by `make bench`; it takes minutes and wants an otherwise idle machine.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

import bench_report
from bench_runs import RunError, run_many_stacks, run_neighbour_paired, run_paired, run_work
from bench_placement import bench_placement
from bench_syscalls import bench_syscalls

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PYTHON = "/root/.pyenv/versions/3.12.1/bin/python3.12"
CONFIGS = [
    {"name": "without cpuprof", "rate": None, "flags": []},
    {"name": "100 Hz", "rate": 100, "flags": []},
    {"name": "1 kHz", "rate": 1000, "flags": []},
    {"name": "10 kHz", "rate": 10000, "flags": []},
    {"name": "1 kHz --blocking", "rate": 1000, "flags": ["--blocking"]},
    {"name": "200 Hz --native", "rate": 200, "flags": ["--native"]},
]
POOLED = "1 kHz"  # the paired configuration measured over --recordings recordings
SECTIONS = ("slowdown", "paired", "syscalls", "placement", "rss", "output")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--cpuprof", help="the cpuprof executable (default: cpuprof on PATH)")
    parser.add_argument("--output-bench",
                        help="the output_bench executable (default: beside the build's cpuprof)")
    parser.add_argument("--rusage-run",
                        help="the rusage_run executable (default: beside output_bench)")
    parser.add_argument("--python", default=DEFAULT_PYTHON, help="the target's interpreter")
    parser.add_argument("--runs", type=int, help="runs per configuration (default 5, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="3 runs per configuration")
    parser.add_argument("--units", type=int, default=6000,
                        help="work units of bench_target.py (default 6000: 2-3 s alone)")
    parser.add_argument("--threads", type=int, default=4, help="threads of the multi-threaded work")
    parser.add_argument("--rss-seconds", type=float,
                        help="length of the RSS recording (default 60)")
    parser.add_argument("--long", action="store_true", help="a 600 s RSS recording")
    parser.add_argument("--pairs", type=int,
                        help="paired rounds per configuration (default 40, --quick 20)")
    parser.add_argument("--recordings", type=int,
                        help="paired recordings pooled for 1 kHz, the configuration with the "
                             "1 %% target, and for its neighbour row (default 8, --quick 2)")
    parser.add_argument("--round-units", type=int, default=250,
                        help="work units per paired round (default 250: about 0.1 s)")
    parser.add_argument("--branch", type=int, default=10,
                        help="many_stacks.py branching: BRANCH**4 call paths (default 10: 10k)")
    parser.add_argument("--stacks", type=int, default=100_000,
                        help="unique stacks in the output benchmark's profile (default 100000)")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this part (repeatable)")
    parser.add_argument("--json", default=os.path.join(HERE, "results.json"),
                        help="where to write the figures (default tools/bench/results.json)")
    args = parser.parse_args()
    args.runs = args.runs or (3 if args.quick else 5)
    args.pairs = args.pairs or (20 if args.quick else 40)
    args.recordings = args.recordings or (2 if args.quick else 8)
    args.rss_seconds = args.rss_seconds or (600 if args.long else 60)
    args.cpuprof = args.cpuprof or shutil.which("cpuprof")
    if not args.cpuprof or not os.access(args.cpuprof, os.X_OK):
        parser.error("cpuprof not found: build it and give --cpuprof BUILD/src/cli/cpuprof")
    if not os.access(args.python, os.X_OK):
        parser.error(f"{args.python} is not an interpreter here: give --python PATH")
    if args.output_bench is None:
        build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(args.cpuprof))))
        args.output_bench = os.path.join(build, "tools", "bench", "output_bench")
    args.rusage_run = args.rusage_run or os.path.join(os.path.dirname(args.output_bench),
                                                      "rusage_run")
    args.wakeup_floor = os.path.join(os.path.dirname(args.rusage_run), "wakeup_floor")
    args.neighbour = os.path.join(os.path.dirname(args.rusage_run), "neighbour")
    args.wake_placement = os.path.join(os.path.dirname(args.rusage_run), "wake_placement")
    if not os.access(args.rusage_run, os.X_OK):
        parser.error(f"{args.rusage_run} not found: build the rusage_run target or give "
                     "--rusage-run PATH")
    return args


def command_output(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"unknown ({e})"


def machine_info(args):
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "target_python": command_output([args.python, "-c",
                                         "import platform; print(platform.python_version())"]),
        "target_python_path": args.python,
        "driver_python": platform.python_version(),
        "cpuprof": command_output([args.cpuprof, "--version"]),
        "loadavg_start": round(os.getloadavg()[0], 2),
    }


def median_of(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(runs, errors, baseline_s):
    if not runs:
        return {"available": False, "error": errors[0] if errors else "no run"}
    work_s = median_of(runs, "work_s")
    summary = {"available": True, "runs": len(runs), "errors": errors, "work_s": work_s}
    if baseline_s and "cpu_s" in runs[0]:
        summary["slowdown_pct"] = (work_s / baseline_s - 1) * 100
    for key in ("cpu_per_sample_us", "sampler_cpu_per_sample_us", "other_cpu_ms", "user_s",
                "system_s", "yield", "tick_yield", "first_sample_ms", "unique_stacks"):
        summary[key] = median_of(runs, key)
    for key in ("lost_ticks", "late_ticks", "failed", "torn"):
        values = [run["stats"][key] for run in runs if "stats" in run]
        summary[key] = statistics.median(values) if values else None
    if "native" in runs[0]:
        summary["native_frames"] = all(run["native"] for run in runs)
    return summary


def bench_slowdown(args, settings, tmp):
    """Every configuration once per round, rounds repeated: drift in the machine's load then
    touches every configuration alike instead of whichever happened to run last."""
    workloads = {"single": 1, "multi": args.threads}
    results = {}
    for workload, threads in workloads.items():
        runs = {c["name"]: [] for c in CONFIGS}
        errors = {c["name"]: [] for c in CONFIGS}
        for round_index in range(args.runs):
            for config in CONFIGS:
                print(f"  {workload}-threaded, run {round_index + 1}/{args.runs}: "
                      f"{config['name']}", file=sys.stderr, flush=True)
                try:
                    run = run_work(settings, config, threads, tmp)
                except RunError as e:
                    errors[config["name"]].append(str(e))
                    continue
                if config["flags"] == ["--native"] and not run["native"]:
                    errors[config["name"]].append("cpuprof record --native produced no native "
                                                  "frames")
                    continue
                runs[config["name"]].append(run)
        baseline = median_of(runs[CONFIGS[0]["name"]], "work_s")
        results[workload] = {
            "threads": threads,
            "configs": {name: {"summary": summarize(runs[name], errors[name], baseline),
                               "runs": runs[name]} for name in runs},
        }
    return results


def bench_wakeup_floor(args, rates=((100, 2), (1000, 2), (10000, 1)), nanosleep=False):
    """The CPU per wake-up of a thread that does nothing else (wakeup_floor), at each rate, with
    another thread spinning meanwhile (as the profiled work does), median of 3. It sleeps on
    cpuprof's ticker, or with one clock_nanosleep per deadline (how cpuprof slept before)."""
    floor = {}
    if not os.access(args.wakeup_floor, os.X_OK):
        return floor
    for rate, seconds in rates:
        figures = []
        for _ in range(3):
            done = subprocess.run([args.wakeup_floor, str(rate), str(seconds), "--busy"]
                                  + (["--nanosleep"] if nanosleep else []),
                                  capture_output=True, text=True)
            if done.returncode == 0:
                figures.append(json.loads(done.stdout)["cpu_per_wakeup_us"])
        if figures:
            floor[str(rate)] = statistics.median(figures)
    return floor


def bench_wake_placement(args, runs=3, seconds=2):
    """How often this kernel wakes a 1 kHz sleeper on its busy last CPU while another CPU is idle
    (wake_placement), median of `runs`: what decides how many of a multi-threaded target's
    ticks run beside it. None without the tool or a second CPU."""
    if not os.access(args.wake_placement, os.X_OK) or len(os.sched_getaffinity(0)) < 2:
        return None
    reports = []
    for _ in range(runs):
        done = subprocess.run([args.wake_placement, "1000", str(seconds)], capture_output=True,
                              text=True, timeout=60 + seconds)
        if done.returncode == 0:
            reports.append(json.loads(done.stdout))
        else:
            print(f"  wake_placement failed: {done.stderr.strip() or f'exit {done.returncode}'}",
                  file=sys.stderr)
    if not reports:
        return None
    return {"kept_on_busy_pct": statistics.median(r["kept_on_busy_pct"] for r in reports),
            "moved_to_busy_pct": statistics.median(r["moved_to_busy_pct"] for r in reports),
            "sched_vcpu_pack": reports[0]["sched_vcpu_pack"], "runs": reports}


def bench_paired(args, settings, tmp):
    """The slowdown from paired rounds (bench_target.py): the median and quartiles of the
    per-pair ratios, per configuration and workload."""
    results = {}
    for workload, threads in {"single": 1, "multi": args.threads}.items():
        configs = {}
        for config in CONFIGS[1:]:
            recordings = args.recordings if config["name"] == POOLED else 1
            print(f"  {workload}-threaded, {recordings} x {args.pairs} pairs: {config['name']}",
                  file=sys.stderr, flush=True)
            try:
                run = pooled(lambda: run_paired(settings, config, threads, tmp), recordings)
            except RunError as e:
                configs[config["name"]] = {"available": False, "error": str(e)}
                continue
            configs[config["name"]] = paired_figures(run)
        configs.update(neighbour_rows(args, settings, threads, configs.get("1 kHz"), tmp))
        results[workload] = {"threads": threads, "configs": configs}
    return results


def neighbour_rows(args, settings, threads, cpuprof_1khz, tmp):
    """The same paired rounds with `neighbour` in cpuprof's place, touching nothing of the work:
    once burning at each 1 kHz wake-up the CPU cpuprof's sampler spent per tick above a bare
    wake-up (what any process of cpuprof's cost gives the work), once only waking (what any
    process that wakes at 1 kHz gives it). Like cpuprof, the neighbour does not wake while
    paused."""
    if not os.access(args.neighbour, os.X_OK) or not cpuprof_1khz or \
            not cpuprof_1khz["available"]:
        return {}
    stats = cpuprof_1khz["stats"]
    sampler_us = stats["sampler_cpu_ns"] / max(stats["ticks"], 1) / 1e3
    floor = bench_wakeup_floor(args, rates=((1000, 2),)).get("1000", 0.0)
    rows = {}
    for name, spin_us in ((bench_report.NEIGHBOUR, max(sampler_us - floor, 0.0)),
                          (bench_report.WAKER, 0.0)):
        print(f"  {threads}-thread work, {args.recordings} x {args.pairs} pairs: neighbour "
              f"spinning {spin_us:.1f} µs at 1 kHz", file=sys.stderr, flush=True)
        try:
            run = pooled(lambda spin=spin_us: run_neighbour_paired(settings, 1000, spin, threads,
                                                                   tmp),
                         args.recordings)
        except RunError as e:
            rows[name] = {"available": False, "error": str(e)}
            continue
        rows[name] = {**paired_figures(run), "spin_us": spin_us, "cpuprof_sampler_us": sampler_us}
    return rows


def pooled(record, recordings):
    """`record()` (one recording in paired rounds) `recordings` times, its pairs pooled. One
    recording's 40 pairs leave the median uncertain by about ±1.5 % on these VMs, and recordings
    differ (where the host places the vCPUs); pooling several narrows the interval to a few
    tenths for the configuration whose target is 1 %. Counters are summed; each recording's own
    median is kept."""
    runs = [record() for _ in range(recordings)]
    merged = {key: [x for run in runs for x in run[key]] for key in ("ratios", "on_s", "off_s")}
    merged["recordings"] = len(runs)
    merged["recording_medians_pct"] = [(statistics.median(run["ratios"]) - 1) * 100
                                       for run in runs]
    if "stats" in runs[0]:
        merged["stats"] = {key: sum(run["stats"][key] for run in runs)
                           for key, value in runs[0]["stats"].items()
                           if isinstance(value, (int, float))}
    if "neighbour_report" in runs[0]:
        merged["neighbour_cpu_per_wakeup_us"] = statistics.median(
            run["neighbour_report"]["cpu_per_wakeup_us"] for run in runs)
    return merged


def paired_figures(run):
    """The slowdown of one configuration's paired rounds: the median per-pair ratio, its
    quartiles and mean, and a 95 % confidence interval of the median (bench_report.median_ci)."""
    ratios = sorted(run["ratios"])
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    low, high = bench_report.median_ci(ratios)
    return {"available": True, "pairs": len(ratios), "slowdown_pct": (median - 1) * 100,
            "q1_pct": (q1 - 1) * 100, "q3_pct": (q3 - 1) * 100,
            "ci_low_pct": (low - 1) * 100, "ci_high_pct": (high - 1) * 100,
            "mean_pct": (statistics.fmean(ratios) - 1) * 100,
            "round_s": statistics.median(run["off_s"]), **run}


def bench_output(args):
    if not os.access(args.output_bench, os.X_OK):
        return {"available": False, "error": f"{args.output_bench} not built"}
    cmd = [args.output_bench, "--json", "--stacks", str(args.stacks), "--repeat", "3"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"available": False, "error": done.stderr.strip() or f"exit {done.returncode}"}
    return {"available": True, **json.loads(done.stdout)}


def main():
    args = parse_args()
    sections = args.only or list(SECTIONS)
    settings = {"cpuprof": args.cpuprof, "rusage_run": args.rusage_run, "python": args.python,
                "units": args.units, "rss_seconds": args.rss_seconds, "branch": args.branch,
                "pairs": args.pairs, "round_units": args.round_units,
                "neighbour": args.neighbour}
    results = {"machine": machine_info(args),
               "settings": {**settings, "runs": args.runs, "threads": args.threads,
                            "stacks": args.stacks}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="cpuprof-bench-") as tmp:
        if "slowdown" in sections and os.access(args.wakeup_floor, os.X_OK):
            print("wake-up floor: CPU per wake-up of a thread doing nothing", file=sys.stderr)
            results["wakeup_floor_us"] = bench_wakeup_floor(args)
            results["wakeup_floor_nanosleep_us"] = bench_wakeup_floor(args, nanosleep=True)
        if "slowdown" in sections:
            print("slowdown, CPU per sample, yield, first sample:", file=sys.stderr)
            results["slowdown"] = bench_slowdown(args, settings, tmp)
            failed |= any(not c["summary"]["available"] and "--native" not in name
                          for w in results["slowdown"].values()
                          for name, c in w["configs"].items())
        if "paired" in sections:
            print("slowdown from paired rounds (cpuprof paused / resumed):", file=sys.stderr)
            results["paired"] = bench_paired(args, settings, tmp)
            results["wake_placement"] = bench_wake_placement(args)
            failed |= any(not c["available"] and "--native" not in name
                          for w in results["paired"].values()
                          for name, c in w["configs"].items())
        if "syscalls" in sections:
            print("system calls per tick (strace -c, two recordings):", file=sys.stderr,
                  flush=True)
            configs = [c for c in CONFIGS if c["name"] in ("1 kHz", "1 kHz --blocking",
                                                            "200 Hz --native")]
            results["syscalls"] = bench_syscalls(settings, configs, (1, args.threads, 0), tmp)
        if "placement" in sections:
            print("where the sampler runs (tracefs, 1 kHz):", file=sys.stderr, flush=True)
            results["placement"] = [bench_placement(settings, threads, tmp)
                                    for threads in (1, args.threads)]
        if "rss" in sections:
            print(f"RSS: {args.rss_seconds:.0f} s at 1 kHz on {args.branch ** 4} call paths",
                  file=sys.stderr, flush=True)
            try:
                results["rss"] = {"available": True, **run_many_stacks(settings, tmp)}
            except RunError as e:
                results["rss"] = {"available": False, "error": str(e)}
                failed = True
        if "output" in sections:
            print(f"output: {args.stacks} unique stacks", file=sys.stderr, flush=True)
            results["output"] = bench_output(args)
            failed |= not results["output"]["available"]
    results["machine"]["loadavg_end"] = round(os.getloadavg()[0], 2)
    results["targets"] = bench_report.targets(results)
    bench_report.print_report(results)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(f"\nwrote {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
