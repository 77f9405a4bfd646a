"""Benchmark target with many unique stacks, for cpuprof's memory use over a long recording.

Usage: python many_stacks.py [--branch B] [--depth D] [--leaf-ms MS] [--ready FILE] [--seconds S]

Generates B * D functions: level L has B of them, and each one calls one of the B functions of
level L+1, so there are B ** D distinct call paths (10 ** 4 = 10k by default). The paths are
visited in turn, each spinning MS milliseconds in its leaf so that a sampler at 1 kHz sees every
one of them in the first round. Runs until killed or its parent exits, or for S seconds.
"""
import argparse
import os
import time

GENERATED_FILE = "<many_stacks generated>"


def leaf(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def generate(branch, depth):
    """Returns the entry points of level 0: one function per first step of a path."""
    lines = []
    for level in range(depth):
        for j in range(branch):
            lines.append(f"def level{level}_fn{j}(path, seconds):")
            if level + 1 == depth:
                lines.append("    leaf(seconds)")
            else:
                lines.append(f"    LEVELS[{level + 1}][path[{level + 1}]](path, seconds)")
    namespace = {"leaf": leaf}
    exec(compile("\n".join(lines) + "\n", GENERATED_FILE, "exec"), namespace)
    namespace["LEVELS"] = [
        [namespace[f"level{level}_fn{j}"] for j in range(branch)] for level in range(depth)
    ]
    return namespace["LEVELS"][0]


def digits(index, branch, depth):
    path = []
    for _ in range(depth):
        path.append(index % branch)
        index //= branch
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branch", type=int, default=10)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--leaf-ms", type=float, default=2.0)
    parser.add_argument("--ready", help="file created (holding the pid) once the work starts")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: never)")
    args = parser.parse_args()

    entries = generate(args.branch, args.depth)
    paths = [digits(i, args.branch, args.depth) for i in range(args.branch**args.depth)]
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(args.ready + ".tmp", args.ready)
    seconds = args.leaf_ms / 1000.0
    deadline = time.monotonic() + args.seconds if args.seconds else None
    parent = os.getppid()
    while True:
        for path in paths:
            entries[path[0]](path, seconds)
            if deadline is not None and time.monotonic() >= deadline:
                return
            if os.getppid() != parent:
                return  # the benchmark that started it is gone


main()
