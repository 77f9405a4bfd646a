"""Writes the line tables of a known source, as compiled by the running interpreter, to JSON.

Usage: python3.X dump_linetables.py OUTPUT.json

For every code object of SOURCE (recursively) it records the raw table (co_lnotab up to 3.9,
co_linetable from 3.10), co_firstlineno, the bytecode size and the line of every instruction
offset as the interpreter itself computes it with PyCode_Addr2Line (called through ctypes). The
same lines are derived a second time from the documented Python-level API (dis.findlinestarts up
to 3.9, code.co_lines() from 3.10) and the script fails if the two disagree, so the checked-in
data is what CPython means, not what a decoder believes. tests/unit/python/test_linetable.cpp
replays the data through cpuprof's decoder.
"""

import ctypes
import dis
import json
import sys
import types

# The part between the markers is compiled, never run. It exercises what makes line tables
# interesting: loops, multi-line expressions (line deltas that go backwards), nested functions,
# blank lines, lines more than 255 apart (line deltas that need several table entries), one line
# with more than 255 bytes of bytecode, columns past 255, and statements without a line.
BIG_GAP = "\n" * 300
LONG_LINE = "    total = [" + ", ".join("x%d + y" % i for i in range(160)) + "]\n"

SOURCE = (
    '''import os


def simple(a, b):
    c = a + b
    return c * 2


def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        while total < i:
            total += 1
            if total > 1000:
                break
        else:
            total -= 1
    return total


def multi_line(values):
    result = sorted(
        values,
        key=lambda v: (
            v[0],
            -v[1],
        ),
        reverse=True,
    )
    return [
        x
        for x in result
        if x
    ]


def nested(depth):
    def inner(k):
        def innermost():
            return k + depth
        return innermost()

    acc = 0

    for j in range(depth):

        acc += inner(j)

    return acc


def exceptions(path):
    try:
        with open(path) as handle:
            data = handle.read()
    except OSError as error:
        data = str(error)
    finally:
        path = None
    return data


def generator(n):
    i = 0
    while i < n:
        yield i
        i += 1


async def coroutine(source):
    async for item in source:
        await item


class Widget:
    size = 3

    def __init__(self, name):
        self.name = name

    @property
    def label(self):
        return f"{self.name}:{self.size}"


def far_apart(x):
    first = x + 1
'''
    + BIG_GAP
    + '''    second = first * 2
'''
    + BIG_GAP
    + '''    return second


def backwards(a, b):
    return max(
        a,
'''
    + BIG_GAP
    + '''        b,
    )


def long_line(y, '''
    + ", ".join("x%d" % i for i in range(160))
    + '''):
'''
    + LONG_LINE
    + '''    return total


def early_return(items):
    for item in items:
        if item:
            return item
    return None
'''
)


def code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def interpreter_lines(code):
    addr2line = ctypes.pythonapi.PyCode_Addr2Line
    addr2line.argtypes = [ctypes.py_object, ctypes.c_int]
    addr2line.restype = ctypes.c_int
    return [addr2line(code, offset) for offset in range(0, len(code.co_code), 2)]


def documented_lines(code):
    lines = [-1] * (len(code.co_code) // 2)
    if sys.version_info >= (3, 10):
        for start, end, line in code.co_lines():
            for offset in range(start, end, 2):
                if offset // 2 < len(lines):
                    lines[offset // 2] = -1 if line is None else line
        return lines
    starts = sorted(dis.findlinestarts(code))
    current = code.co_firstlineno
    next_start = 0
    for index in range(len(lines)):
        while next_start < len(starts) and starts[next_start][0] <= index * 2:
            current = starts[next_start][1]
            next_start += 1
        lines[index] = current
    return lines


def raw_table(code):
    if sys.version_info >= (3, 10):
        return code.co_linetable
    return code.co_lnotab


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3.X dump_linetables.py OUTPUT.json")
    if sys.version_info >= (3, 11):
        kind = "locations"
    elif sys.version_info >= (3, 10):
        kind = "linetable"
    else:
        kind = "lnotab"
    module = compile(SOURCE, "<linetables>", "exec")
    entries = []
    for code in code_objects(module):
        lines = interpreter_lines(code)
        documented = documented_lines(code)
        if lines != documented:
            sys.exit(
                "PyCode_Addr2Line and the documented API disagree for %s: %r != %r"
                % (code.co_name, lines, documented)
            )
        entries.append(
            {
                "name": getattr(code, "co_qualname", code.co_name),
                "first_line": code.co_firstlineno,
                "code_size": len(code.co_code),
                "table": raw_table(code).hex(),
                "lines": lines,
            }
        )
    header = {"python": sys.version.split()[0], "kind": kind}
    with open(sys.argv[1], "w") as out:
        # One code object per line keeps the file small and its diffs readable.
        out.write(json.dumps(header)[:-1] + ', "code_objects": [\n')
        out.write(",\n".join(json.dumps(entry) for entry in entries))
        out.write("\n]}\n")

if __name__ == "__main__":
    main()
