"""Sorts with libc's qsort and a Python comparison callback (ctypes/libffi), so the native stack
runs Python -> C (qsort) -> C (libffi) -> Python. argv[1]: fd to write b"R" to when ready."""
import ctypes
import os
import sys

LIBC = ctypes.CDLL("libc.so.6")
COMPARE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
COUNT = 4000


def by_value(a, b):
    return a[0] - b[0]


CALLBACK = COMPARE(by_value)


def sort_forever():
    while True:
        values = (ctypes.c_int * COUNT)(*range(COUNT, 0, -1))
        LIBC.qsort(values, COUNT, ctypes.sizeof(ctypes.c_int), CALLBACK)


small = (ctypes.c_int * 3)(3, 1, 2)
LIBC.qsort(small, 3, ctypes.sizeof(ctypes.c_int), CALLBACK)
assert list(small) == [1, 2, 3]
os.write(int(sys.argv[1]), b"R")
sort_forever()
