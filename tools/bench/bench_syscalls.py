"""System calls per tick: a figure the machine's noise cannot move.

cpuprof is run under `strace -f -c` twice on the same running target, for a short and a longer
recording; the difference of the counts over the difference of the ticks taken is what one tick
costs in steady state (attaching and writing the profile cancel out).
"""
import json
import os
import re
import shutil
import subprocess

from bench_runs import BENCH_TARGET, RunError, fresh_paths, wait_ready

SHORT_S, LONG_S = 1.0, 3.0
# "% time     seconds  usecs/call     calls    errors syscall" rows of strace -c
ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")


def parse_counts(text):
    counts = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match and match.group(2) != "total":
            counts[match.group(2)] = int(match.group(1))
    return counts


def traced_recording(settings, pid, rate, flags, seconds, tmp):
    out_json, trace = fresh_paths(tmp, "syscalls.json", "syscalls.strace")
    cmd = ["strace", "-f", "-c", "-o", trace, settings["cpuprof"], "record", "--pid", str(pid),
           "--rate", str(rate), "--duration", str(seconds), "-q", "-o", out_json] + flags
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RunError(f"cpuprof under strace exited with {done.returncode}: "
                       f"{done.stderr.strip().splitlines()[-1:]}")
    with open(out_json) as f:
        ticks = json.load(f)["stats"]["ticks"]
    with open(trace) as f:
        return ticks, parse_counts(f.read())


def syscalls_per_tick(settings, config, threads, tmp):
    ready, = fresh_paths(tmp, "syscalls-ready")
    # No GO file: the work starts at once and lasts far longer than the recordings.
    target = subprocess.Popen([settings["python"], BENCH_TARGET, "1000000", str(threads), ready],
                              stdout=subprocess.DEVNULL)
    try:
        pid = wait_ready(ready, target)
        short_ticks, short = traced_recording(settings, pid, config["rate"], config["flags"],
                                              SHORT_S, tmp)
        long_ticks, long = traced_recording(settings, pid, config["rate"], config["flags"],
                                            LONG_S, tmp)
    finally:
        target.kill()
        target.wait()
    ticks = long_ticks - short_ticks
    if ticks <= 0:
        raise RunError("the longer recording took no more ticks than the shorter one")
    per_tick = {name: (long.get(name, 0) - short.get(name, 0)) / ticks
                for name in set(long) | set(short)}
    per_tick = {name: round(n, 2) for name, n in per_tick.items() if n >= 0.05}
    return dict(sorted(per_tick.items(), key=lambda item: -item[1]))


def bench_syscalls(settings, configs, thread_counts, tmp):
    if shutil.which("strace") is None:
        return {"available": False, "error": "strace is not installed (apt-get install strace)"}
    results = {"available": True, "workloads": {}}
    for threads in thread_counts:
        rows = {}
        # 0: a program whose one thread sleeps; only the first configuration (1 kHz) for it.
        for config in configs[:1] if threads == 0 else configs:
            try:
                rows[config["name"]] = syscalls_per_tick(settings, config, threads, tmp)
            except (RunError, subprocess.TimeoutExpired, OSError, ValueError) as e:
                rows[config["name"]] = {"error": str(e)}
        results["workloads"][str(threads)] = rows
    return results
