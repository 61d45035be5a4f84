"""A small HTTP load generator for the benchmarks (127.0.0.1 only).

`open_loop` sends at a fixed rate and measures each latency from the moment the request was
*scheduled*, so a slow server cannot hide its queueing (no coordinated omission).
`closed_loop` keeps N connections busy to find the maximum throughput. Keep-alive
connections, one per thread, with http.client from the standard library.

Both freeze the garbage collector's view of everything allocated before they start: the
benchmark scripts set Django up first (hundreds of thousands of objects), and a full
collection over those paused every sending thread for up to ~100 ms — which then showed up
as server latency (measured: requests over 50 ms at 300 req/s fell from ~200 to ~10 in 20 s).
"""

from __future__ import annotations

import gc
import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Body = Callable[[int], tuple[str, str, dict | None]]  # i -> (method, path, json body)


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.pct(50), 2),
            "p99_ms": round(self.pct(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
        }


def _connection(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    assert parts.hostname in ("127.0.0.1", "localhost"), "load is only ever sent to this machine"
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)


def _send(
    conn: http.client.HTTPConnection, method: str, path: str, body: dict | None, origin: str
) -> int:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Origin": origin} if data else {"Origin": origin}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def quiet_gc() -> None:
    """Move what exists now out of the collector's sight (see the module docstring)."""
    gc.collect()
    gc.freeze()


def open_loop(
    base_url: str, make: Body, rate: float, seconds: float, threads: int = 32, ok=(200, 201, 204)
) -> Result:
    quiet_gc()
    interval = threads / rate
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def worker(offset: int) -> None:
        conn = _connection(base_url)
        i = offset
        scheduled = start + offset / rate
        while scheduled < start + seconds:
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            method, path, body = make(i)
            try:
                status = _send(conn, method, path, body, base_url)
                failed = status not in ok
            except OSError:
                conn.close()
                conn = _connection(base_url)
                failed = True
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += failed
            i += threads
            scheduled += interval

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(len(latencies), errors[0], seconds, latencies)


def closed_loop(
    base_url: str, make: Body, seconds: float, concurrency: int = 8, ok=(200, 201, 204)
) -> Result:
    quiet_gc()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def worker() -> None:
        conn = _connection(base_url)
        while time.perf_counter() < stop:
            with lock:
                i = next(counter)
            method, path, body = make(i)
            began = time.perf_counter()
            try:
                failed = _send(conn, method, path, body, base_url) not in ok
            except OSError:
                conn.close()
                conn = _connection(base_url)
                failed = True
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                errors[0] += failed

    began = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(len(latencies), errors[0], time.perf_counter() - began, latencies)
