"""One benchmark run: a target process, optionally with `cpuprof record --pid` attached to it.

cpuprof's own CPU time and peak RSS come from the kernel (wait4, by rusage_run). Its stderr is
read at -vv for the line the sampler logs on its first sample, which carries the
CLOCK_MONOTONIC time of that sample (the same clock as time.monotonic_ns here).
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_TARGET = os.path.join(HERE, "bench_target.py")
MANY_STACKS = os.path.join(HERE, "many_stacks.py")
FIRST_SAMPLE = re.compile(r"first sample at monotonic (\d+) ns")
START_TIMEOUT_S = 60
# A safety cap only: every recording is stopped with SIGINT, or by its --duration.
RECORD_CAP_S = 3600


def pinned(cmd, cpus):
    """`cmd` run on the CPUs `cpus` (a taskset list such as "0" or "2,3") when given."""
    return ["taskset", "-c", str(cpus), *cmd] if cpus is not None else list(cmd)


class RunError(Exception):
    """A run that produced no figure; the message says why."""


class StderrWatcher:
    """Drains a child's stderr on a thread, noting the first-sample time and the last lines."""

    def __init__(self, stream):
        self.first_sample_ns = None
        self.lines = []
        self.settled = threading.Event()  # the first sample was logged, or stderr closed
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            match = FIRST_SAMPLE.search(line)
            if match and self.first_sample_ns is None:
                self.first_sample_ns = int(match.group(1))
                self.settled.set()
            self.lines = (self.lines + [line.rstrip()])[-20:]
        self.closed.set()
        self.settled.set()

    def problem(self):
        errors = [line for line in self.lines if "error" in line]
        return (errors or self.lines or ["no output"])[-1]


class Recording:
    """`cpuprof record --pid PID` of a running target, started through rusage_run so that its
    CPU time and peak RSS are its own (see rusage_run.cpp for why not wait4 from here)."""

    def __init__(self, settings, pid, rate, flags, out_json, duration_s=RECORD_CAP_S):
        self.out_json = out_json
        self.rusage_json = out_json + ".rusage"
        # taskset execs cpuprof: rusage_run's child is cpuprof itself, pinned or not.
        cmd = [settings["rusage_run"], self.rusage_json, "--"] + pinned(
            [settings["cpuprof"], "-vv", "record", "--pid", str(pid), "--rate", str(rate),
             "--duration", str(duration_s), "-q", "-o", out_json] + list(flags),
            settings.get("cpuprof_cpus"))
        self.started_ns = time.monotonic_ns()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, errors="replace")
        self.watcher = StderrWatcher(self.proc.stderr)
        self.rusage = None

    def wait_first_sample(self):
        """Milliseconds from starting cpuprof to its first sample; RunError if it never came."""
        self.watcher.settled.wait(START_TIMEOUT_S)
        if self.watcher.first_sample_ns is None:
            if not self.watcher.closed.is_set():
                self.stop()
            self.reap()
            raise RunError(f"cpuprof took no sample: {self.watcher.problem()}")
        return (self.watcher.first_sample_ns - self.started_ns) / 1e6

    def alive(self):
        return not self.watcher.closed.is_set()

    def cpuprof_pid(self):
        """The pid of cpuprof itself, the child of rusage_run (None once it has exited)."""
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def stop(self):
        self.proc.send_signal(signal.SIGINT)

    def reap(self):
        """Waits for cpuprof; returns the profile it wrote (RunError if it failed)."""
        if self.rusage is None:
            self.proc.wait()
            self.watcher.closed.wait(10)
            try:
                with open(self.rusage_json) as f:
                    self.rusage = json.load(f)
            except (OSError, ValueError):
                self.rusage = {"exit_status": self.proc.returncode}
        if self.rusage["exit_status"] != 0:
            raise RunError(f"cpuprof exited with {self.rusage['exit_status']}: "
                           f"{self.watcher.problem()}")
        with open(self.out_json) as f:
            return json.load(f)

    def cpu_s(self):
        return self.rusage["user_s"] + self.rusage["system_s"]

    def kill(self):
        if self.rusage is None:
            pid = self.cpuprof_pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            try:
                self.reap()
            except (RunError, OSError, ValueError):
                pass


def wait_ready(path, proc):
    deadline = time.monotonic() + START_TIMEOUT_S
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RunError(f"the target exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise RunError(f"the target did not start within {START_TIMEOUT_S} s")
        time.sleep(0.002)
    with open(path) as f:
        return int(f.read())


def touch(path):
    with open(path, "w"):
        pass


def fresh_paths(tmp, *names):
    paths = [os.path.join(tmp, name) for name in names]
    for path in paths:
        if os.path.exists(path):
            os.remove(path)
    return paths


def recording_figures(rec, profile):
    stats = profile["stats"]
    samples = stats["thread_samples"]
    expected = stats["expected_ticks"]
    frames = profile.get("frames", [])
    return {
        "cpu_s": rec.cpu_s(),
        "user_s": rec.rusage["user_s"],
        "system_s": rec.rusage["system_s"],
        "peak_rss_kb": rec.rusage["maxrss_kb"],
        "duration_s": profile["duration_s"],
        "stats": stats,
        "unique_stacks": len(profile.get("stacks", [])),
        "cpu_per_sample_us": rec.cpu_s() / samples * 1e6 if samples else None,
        "sampler_cpu_per_sample_us": stats["sampler_cpu_ns"] / samples / 1e3 if samples else None,
        "other_cpu_ms": rec.cpu_s() * 1e3 - stats["sampler_cpu_ns"] / 1e6,
        "yield": samples / expected if expected else None,
        "tick_yield": stats["ticks"] / expected if expected else None,
        "native": bool(profile.get("options", {}).get("native"))
                  or any(f.get("kind") == "native" for f in frames),
    }


def publish(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def attached_work(settings, config, threads, tmp, units, pairs=None):
    """bench_target.py with `cpuprof record --pid` attached unless config["rate"] is None; with
    `pairs`, in paired rounds that pause and resume cpuprof (see bench_target.py). Returns the
    target's output line, the recording's figures (None without cpuprof) and the milliseconds
    from starting cpuprof to its first sample."""
    ready, go, done, out_json, _ = fresh_paths(tmp, "ready", "go", "done", "profile.json",
                                             "profile.json.rusage")
    cmd = [settings["python"], BENCH_TARGET, str(units), str(threads), ready, go, done]
    cmd += [str(pairs)] if pairs else []
    target = subprocess.Popen(pinned(cmd, settings.get("work_cpus")), stdout=subprocess.PIPE,
                              text=True)
    rec = None
    try:
        pid = wait_ready(ready, target)
        first_sample_ms = None
        if config["rate"] is not None:
            rec = Recording(settings, pid, config["rate"], config["flags"], out_json)
            first_sample_ms = rec.wait_first_sample()
        if pairs:
            cpuprof_pid = rec.cpuprof_pid()
            if cpuprof_pid is None:
                raise RunError(f"cpuprof stopped before the work: {rec.watcher.problem()}")
            publish(go, str(cpuprof_pid))
        else:
            touch(go)
        line = target.stdout.readline()
        if not line:
            raise RunError(f"the target exited with {target.wait()} before finishing its work")
        figures = None
        if rec is not None:
            if not rec.alive():
                raise RunError(f"cpuprof stopped during the work: {rec.watcher.problem()}")
            rec.stop()
            figures = recording_figures(rec, rec.reap())
        touch(done)
        target.wait(START_TIMEOUT_S)
        return line, figures, first_sample_ms
    finally:
        if rec is not None:
            rec.kill()
        if target.poll() is None:
            target.kill()
            target.wait()


def run_work(settings, config, threads, tmp):
    """One run of bench_target.py, with cpuprof attached unless config["rate"] is None."""
    line, figures, first_sample_ms = attached_work(settings, config, threads, tmp,
                                                   settings["units"])
    result = {"work_s": float(line)}
    if figures is not None:
        result["first_sample_ms"] = first_sample_ms
        result.update(figures)
    return result


def run_paired(settings, config, threads, tmp):
    """bench_target.py in paired rounds: cpuprof attached throughout, resumed for one round of
    each pair and paused for the other. Returns the per-pair ratios."""
    line, figures, _ = attached_work(settings, config, threads, tmp, settings["round_units"],
                                     settings["pairs"])
    rounds = json.loads(line)
    return {"ratios": [on / off for on, off in zip(rounds["on"], rounds["off"])],
            "on_s": rounds["on"], "off_s": rounds["off"], "stats": figures["stats"]}


def wait_caught(proc, signals):
    """Waits until `proc` catches `signals` (SigCgt in /proc/PID/status): before its handlers
    are installed, the pause signal the target sends would kill it."""
    wanted = sum(1 << (sig - 1) for sig in signals)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunError(f"{proc.args[0]} exited with {proc.returncode}")
        with open(f"/proc/{proc.pid}/status") as f:
            caught = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        if caught & wanted == wanted:
            return
        time.sleep(0.001)
    raise RunError(f"{proc.args[0]} did not set up its signal handlers")


def run_neighbour_paired(settings, rate, spin_us, threads, tmp, extra_args=()):
    """Paired rounds as run_paired, with `neighbour` (a process that wakes at `rate` and burns
    `spin_us` of CPU each time, touching nothing else) in cpuprof's place; `extra_args` follow
    its two arguments (`--per-cpu`). Returns the per-pair ratios and the neighbour's report
    (its own CPU per wake-up among them)."""
    ready, go, done = fresh_paths(tmp, "ready", "go", "done")
    cmd = [settings["python"], BENCH_TARGET, str(settings["round_units"]), str(threads), ready,
           go, done, str(settings["pairs"])]
    target = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    neighbour = None
    try:
        wait_ready(ready, target)
        neighbour = subprocess.Popen([settings["neighbour"], str(rate), f"{spin_us:.2f}",
                                      *extra_args], stdout=subprocess.PIPE, text=True)
        wait_caught(neighbour, (signal.SIGUSR1, signal.SIGUSR2))
        publish(go, str(neighbour.pid))
        line = target.stdout.readline()
        if not line:
            raise RunError(f"the target exited with {target.wait()} before finishing its work")
        touch(done)
        target.wait(START_TIMEOUT_S)
        neighbour.terminate()
        report = json.loads(neighbour.communicate(timeout=START_TIMEOUT_S)[0])
        rounds = json.loads(line)
        return {"ratios": [on / off for on, off in zip(rounds["on"], rounds["off"])],
                "on_s": rounds["on"], "off_s": rounds["off"],
                "neighbour_report": report}
    finally:
        for proc in (neighbour, target):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def read_vm_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_many_stacks(settings, tmp):
    """cpuprof at 1 kHz on many_stacks.py for settings["rss_seconds"]; its memory over time."""
    ready, out_json, _ = fresh_paths(tmp, "stacks-ready", "stacks.json", "stacks.json.rusage")
    target = subprocess.Popen([settings["python"], MANY_STACKS, "--ready", ready,
                               "--branch", str(settings["branch"]), "--depth", "4"])
    rec = None
    try:
        pid = wait_ready(ready, target)
        rec = Recording(settings, pid, 1000, [], out_json, settings["rss_seconds"])
        first_ms = rec.wait_first_sample()
        timeline = []  # (seconds since start, VmRSS kB) while recording
        cpuprof_pid = rec.cpuprof_pid()
        while rec.alive() and cpuprof_pid is not None:
            rss = read_vm_rss_kb(cpuprof_pid)
            if rss is not None:
                timeline.append((round((time.monotonic_ns() - rec.started_ns) / 1e9, 1), rss))
            rec.watcher.closed.wait(1.0)
        result = recording_figures(rec, rec.reap())
        result["first_sample_ms"] = first_ms
        result["call_paths"] = settings["branch"] ** 4
        result["rss_timeline_kb"] = timeline
        return result
    finally:
        if rec is not None:
            rec.kill()
        target.kill()
        target.wait()
