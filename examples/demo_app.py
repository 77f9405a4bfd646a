"""A small service-like program to profile: a request loop, a background worker and an idle thread.

Usage: python3 demo_app.py [SECONDS]
"""
import hashlib
import json
import sys
import threading
import time
import zlib


def render_page(user):
    rows = [{"id": i, "user": user, "score": i * 7 % 13} for i in range(200)]
    return json.dumps({"user": user, "rows": rows})


def checksum(payload):
    return hashlib.sha256(payload.encode()).hexdigest()


def handle_request(n):
    page = render_page(f"user-{n}")
    return checksum(page)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def background_compaction(stop):
    blob = b"cpuprof " * 20000
    while not stop.is_set():
        zlib.compress(blob, 6)
        fib(18)


def idle_listener(stop):
    while not stop.is_set():
        time.sleep(0.05)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    stop = threading.Event()
    workers = [
        threading.Thread(target=background_compaction, args=(stop,), name="compactor"),
        threading.Thread(target=idle_listener, args=(stop,), name="listener"),
    ]
    for w in workers:
        w.start()
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        handle_request(n)
        n += 1
    stop.set()
    for w in workers:
        w.join()
    print(f"demo_app: handled {n} requests", file=sys.stderr)


if __name__ == "__main__":
    main()
