"""A small HTTP load generator for the benchmarks (127.0.0.1 only).

`open_loop` sends at a fixed rate and measures each latency from the moment the request was
*scheduled*, so a slow server cannot hide its queueing (no coordinated omission).
`closed_loop` keeps N connections busy to find the maximum throughput, and `best_of_turns`
compares the maximum throughputs of several mixes fairly. `Client` sends one
request at a time over a keep-alive connection (reconnecting when the server answers
"Connection: close", as gunicorn's sync workers do), for scripts that play whole flows.

One thread, one asyncio event loop, keep-alive HTTP/1.1 connections opened as they are first
needed, and a minimal response reader: the generator shares this machine's two cores with the server it
measures, so its own cost per request matters. The thread-per-connection generator it
replaces (http.client, 32 threads) spent ~1.5 ms of CPU per request at 300 req/s — a third of
the machine at the decide target — and every millisecond it took was queueing it added to
the server's latency.

Both loops also keep the garbage collector out of the measured window: everything allocated
before it is frozen out of the collector's sight (the benchmark scripts set Django up first,
hundreds of thousands of objects), and the collector is off while the loop runs. A full
collection paused the generator for up to ~100 ms, which then showed up as server latency;
with only the start-up heap frozen, the run's own objects (a task per flow, kept to the end)
still set off eight full collections in two minutes of the load test, up to 126 ms each and
624 ms in all — the moments the slowest decides were measured in. A run's garbage is freed
by reference counting; what cycles it leaves wait for the end of the window.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

Body = Callable[[int], tuple[str, str, dict | None]]  # i -> (method, path, json body)
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[ \t]*close", re.IGNORECASE)


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


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No garbage collection inside: what exists now is moved out of the collector's sight
    and the collector is off until the block ends (see the module docstring)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight: writes the request, resolves the
    waiting future with (status, body) once Content-Length bytes of body have arrived."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end])
        if _CHUNKED.search(head):
            self.waiter.set_exception(ConnectionError("chunked responses are not read here"))
            return
        match = _CONTENT_LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if _CLOSE.search(head):  # a server without keep-alive: the next request reconnects
            self.closed = True
            self.transport.close()
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result((int(head[9:12]), body))

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class Client:
    """Requests over one keep-alive connection, reopened after a failure."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname in ("127.0.0.1", "localhost"), "load only ever goes to this machine"
        self.host, self.port, self.origin = parts.hostname, parts.port or 80, base_url
        self.connection: _Connection | None = None

    def _raw(self, method: str, path: str, body: dict | None) -> bytes:
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Origin: {self.origin}\r\nContent-Length: {len(data)}\r\n"
        )
        if body is not None:
            head += "Content-Type: application/json\r\n"
        return head.encode() + b"\r\n" + data

    async def open(self) -> Client:
        loop = asyncio.get_running_loop()
        _, self.connection = await loop.create_connection(_Connection, self.host, self.port)
        return self

    async def request(self, method: str, path: str, body: dict | None) -> tuple[int, bytes]:
        """(status, body); raises OSError/ConnectionError when the connection failed (it is
        reopened for the next request)."""
        if self.connection is None or self.connection.closed:
            await self.open()
        try:
            return await self.connection.send(self._raw(method, path, body))
        except (OSError, ConnectionError):
            self.close()
            raise

    async def json(self, method: str, path: str, body: dict | None) -> tuple[int, dict | None]:
        status, raw = await self.request(method, path, body)
        return status, (json.loads(raw) if raw else None)

    def close(self) -> None:
        if self.connection is not None and self.connection.transport is not None:
            self.connection.transport.close()
        self.connection = None


class Pool:
    """Up to `size` connections, opened only when a request needs one and none is free: a
    connection opened and left idle is not what browsers do, and gunicorn's gthread worker
    gives each new connection a thread that waits (up to 5 s) for its first request — 64
    pre-opened idle connections held every thread of the server at the start of a run
    (measured: the first requests of each phase waited ~2.8 s).

    A connection is closed after `reconnect_every` uses (the next use opens it again), as
    `closed_loop` does and as browsers and proxies do: on connections that lived all run, one
    gunicorn process served 60–73 % of the requests — the split drawn when they were opened —
    and the realistic mix's decide p99 measured that draw."""

    def __init__(self, base_url: str, size: int, reconnect_every: int = 20) -> None:
        self.base_url, self.size, self.opened = base_url, size, 0
        self.reconnect_every = reconnect_every
        self.idle: asyncio.Queue[Client] = asyncio.Queue()
        self.every: list[Client] = []
        self.uses: dict[Client, int] = {}

    async def acquire(self) -> Client:
        if self.idle.empty() and self.opened < self.size:
            self.opened += 1
            client = Client(self.base_url)  # connects as it sends its first request
            self.every.append(client)
            return client
        return await self.idle.get()

    def release(self, client: Client) -> None:
        self.uses[client] = uses = self.uses.get(client, 0) + 1
        if self.reconnect_every and uses % self.reconnect_every == 0:
            client.close()
        self.idle.put_nowait(client)

    def close(self) -> None:
        for client in self.every:
            client.close()


async def _failed(client: Client, request: tuple[str, str, dict | None], ok) -> bool:
    """Send one request; whether it failed (an unexpected status or a broken connection)."""
    try:
        status, _ = await client.request(*request)
    except (OSError, ConnectionError):
        return True
    return status not in ok


async def paced(rate: float, start: float, seconds: float):
    """(i, scheduled time) for `rate` per second from `start` for `seconds`, each yielded when
    it is due; latencies are then measured from the scheduled time."""
    i = 0
    while (scheduled := start + i / rate) < start + seconds:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i, scheduled
        i += 1


def open_loop(
    base_url: str,
    make: Body,
    rate: float,
    seconds: float,
    connections: int = 64,
    ok=(200, 201, 204),
) -> Result:
    """`rate` requests per second for `seconds`; a request finding every connection busy
    waits for one, and that wait counts in its latency."""
    with quiet_gc():
        return asyncio.run(_open_loop(base_url, make, rate, seconds, connections, ok))


async def _open_loop(base_url, make, rate, seconds, connections, ok) -> Result:
    pool = Pool(base_url, connections)
    latencies: list[float] = []
    errors = 0

    async def one(i: int, scheduled: float) -> None:
        nonlocal errors
        client = await pool.acquire()
        failed = await _failed(client, make(i), ok)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        errors += failed
        pool.release(client)

    start = time.perf_counter() + 0.2
    pending = [
        asyncio.create_task(one(i, scheduled)) async for i, scheduled in paced(rate, start, seconds)
    ]
    await asyncio.gather(*pending)
    pool.close()
    return Result(len(latencies), errors, seconds, latencies)


def closed_loop(
    base_url: str,
    make: Body,
    seconds: float,
    concurrency: int = 8,
    ok=(200, 201, 204),
    reconnect_every: int = 20,
) -> Result:
    """`concurrency` connections, each sending its next request as soon as the last one is
    answered, for `seconds`; each connection is closed and opened again after
    `reconnect_every` requests. Which gunicorn process accepts a connection is chance, and a
    run on 8 connections that lived all along measured whichever split it drew (2,421 or
    1,176 req/s back to back, same view); reopening them draws the split again and again, so
    a run measures the average (each reconnect costs ~1 % at 20 requests)."""
    with quiet_gc():
        return asyncio.run(_closed_loop(base_url, make, seconds, concurrency, ok, reconnect_every))


async def _closed_loop(base_url, make, seconds, concurrency, ok, reconnect_every) -> Result:
    clients = [Client(base_url) for _ in range(concurrency)]  # each connects on first use
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    began = time.perf_counter()
    stop = began + seconds

    async def worker(client: Client) -> None:
        nonlocal errors
        sent_here = 0
        while time.perf_counter() < stop:
            request = make(next(counter))
            sent = time.perf_counter()
            failed = await _failed(client, request, ok)
            latencies.append((time.perf_counter() - sent) * 1000)
            errors += failed
            sent_here += 1
            if reconnect_every and sent_here % reconnect_every == 0:
                client.close()  # the next request opens a new connection
        client.close()

    await asyncio.gather(*(worker(client) for client in clients))
    return Result(len(latencies), errors, time.perf_counter() - began, latencies)


def best_of_turns(*runs: Callable[[], Result], turns: int = 3) -> list[Result]:
    """Each run's best result of `turns`, the runs taking turns (each once, `turns` times over).

    Why the best, and why in turns: this machine has slow spells (±25 % between identical
    runs), and a spell that fell on the rounds of one mix only skewed the ratio between them
    (decide 652 req/s in a run where it had reached 1,029 twenty minutes before; a bare
    one-INSERT view 997 and 1,494 req/s minutes apart). Taking turns spreads the spells over
    every mix, and each mix's best round is its throughput on the machine's better moments —
    the same moments for all of them."""
    results: list[list[Result]] = [[] for _ in runs]
    for _ in range(turns):
        for rounds, run in zip(results, runs, strict=True):
            rounds.append(run())
    return [max(rounds, key=lambda result: result.rps) for rounds in results]
