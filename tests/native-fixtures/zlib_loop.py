"""Spends its time in zlib's deflate, called from Python. argv[1]: fd to write b"R" to when ready."""
import os
import sys
import zlib

# Incompressible input at the highest level keeps each call inside libz for milliseconds.
DATA = os.urandom(1 << 20)


def compress_forever():
    while True:
        zlib.compress(DATA, 9)


zlib.compress(DATA[:4096], 9)
os.write(int(sys.argv[1]), b"R")
compress_forever()
