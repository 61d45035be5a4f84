"""Fixed-window rate counters for the widget API, shared by every web process.

Why not DRF's SimpleRateThrottle: it keeps the list of every request time of the window in
the cache and rewrites it whole on each request — at widget rates that is tens of thousands
of timestamps pickled per call, and two processes racing lose each other's hits. Here each
limit is one integer per window. A window may let through up to twice its limit across a
boundary, which is what a flood guard needs, not billing precision.

Counting on Redis, two ways (RATE_LIMIT_SYNC_SECONDS):

- *synced* (> 0, the default with Redis): each process counts in memory and a background
  thread adds its counts to Redis every interval, in one round trip for every counter
  touched, taking back the totals of all processes. A call is judged on the last total plus
  the process's own hits since, so a limit is exact within a process and may be overshot
  across processes by what the *other* processes let through before their next sync (one
  interval: a process learns the total the first time it sends a key's hits). The per-call
  Redis round trip this replaces was the largest single cost of a decide on its web
  process (a quarter of its CPU, measured with py-spy at full load): redis-py's command
  machinery and the loopback send and receive, not Redis's own work.
- *exact* (0): every call bumps its counters in Redis in one round trip (a Lua script:
  INCRBY, and EXPIRE on a new key), exact under any concurrency.

Without Redis (embedded mode: one process) the local cache is the whole truth.

A cache outage lets requests through (the survey rules still hold; losing the site's
surveys to a Redis blip would be worse than a burst); synced counting then keeps limiting
each process on its own counts and sends them once Redis answers again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from vocsite.batcher import Batcher

log = logging.getLogger(__name__)
KEY_PREFIX = "rl"


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` seconds for one subject (an IP, a visitor)."""

    scope: str
    subject: str
    limit: int
    window: int = 60


def _redis_configured() -> bool:
    return "django_redis" in settings.CACHES["default"]["BACKEND"]


def _redis():
    """The raw Redis client behind the cache, or None when the cache is not Redis."""
    if not _redis_configured():
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def hit(limits: Sequence[Limit], now: float | None = None) -> float | None:
    """Count one hit against every limit; None when all are within bounds, else the seconds
    until the first exceeded window ends (the Retry-After)."""
    if not limits:
        return None
    now = time.time() if now is None else now
    keys = [f"{KEY_PREFIX}:{lim.scope}:{lim.subject}:{int(now // lim.window)}" for lim in limits]
    try:
        counts = _counts(keys, limits, now)
    except Exception:  # fail open, loudly (see the module docstring)
        log.warning("rate limit counters unavailable; letting the request through", exc_info=True)
        return None
    for lim, count in zip(limits, counts, strict=True):
        if count > lim.limit:
            return lim.window - (now % lim.window)
    return None


def _counts(keys: list[str], limits: Sequence[Limit], now: float) -> list[int]:
    # Whether there is Redis, not its client: looking the client up on every call was 2 % of
    # a decide's CPU, and synced counting (the usual case) does not use it here.
    if not _redis_configured():  # embedded mode: one process, the local cache is the whole truth
        counts = []
        for key, lim in zip(keys, limits, strict=True):
            cache.add(key, 0, lim.window * 2)
            counts.append(cache.incr(key))
        return counts
    if settings.RATE_LIMIT_SYNC_SECONDS > 0:
        return synced.count(keys, limits, now)
    return incr_in_redis(_redis(), keys, [1] * len(keys), [lim.window * 2 for lim in limits])


# INCRBY every key and give each new one its expiry, in one command (one EVALSHA instead of
# a pipeline of INCRBY + EXPIRE pairs). ARGV holds an (increment, ttl) pair per key.
_INCR_ALL = """
local counts = {}
for i, key in ipairs(KEYS) do
  local by = tonumber(ARGV[2 * i - 1])
  counts[i] = redis.call('INCRBY', key, by)
  if counts[i] == by then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return counts
"""
_scripts: dict[int, object] = {}


def incr_in_redis(client, keys: list[str], by: list[int], ttls: list[int]) -> list[int]:
    """Add `by` to each counter in one round trip; the totals after."""
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_INCR_ALL)
    args = [value for pair in zip(by, ttls, strict=True) for value in pair]
    return [int(count) for count in script(keys=keys, args=args)]


class SyncedCounters:
    """Counters judged in memory and added to Redis by a background thread (the module
    docstring says why and what that costs in precision). One per process; `sync` is what
    the thread runs, callable directly (tests, two instances standing for two processes).

    Each counter is a tuple of numbers — (known, pending, in flight, window end, ttl): known
    is every process's total as Redis last answered, pending this process's hits not sent
    yet, in flight those sent whose answer is not back. Tuples of numbers, replaced on each
    hit, are not tracked by the garbage collector, so tens of thousands of live counters add
    nothing to its full collections (which paused the web processes before, vocsite/wsgi.py)."""

    SWEEP_EVERY = 10.0

    def __init__(self, interval=lambda: settings.RATE_LIMIT_SYNC_SECONDS, client=_redis) -> None:
        self._client = client
        self._reset()
        # A key is queued when its first unsent hit arrives; the thread sends them all.
        self._batcher: Batcher[str] = Batcher("rate-limit-sync", interval, self.sync)
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, tuple[int, int, int, float, int]] = {}
        self._unsent: set[str] = set()  # keys a failed sync left to send with the next one
        self._next_sweep = 0.0
        self._next_warning = 0.0

    def close(self) -> None:
        """Stop the sync thread and drop what it would send (throwaway instances in tests)."""
        self._batcher.stop()

    def count(self, keys: list[str], limits: Sequence[Limit], now: float) -> list[int]:
        """Count one hit on each key; each key's total as this process knows it."""
        counts, first_unsent = [], []
        with self._lock:
            for key, lim in zip(keys, limits, strict=True):
                counter = self._counters.get(key)
                if counter is None:
                    counter = (0, 0, 0, (now // lim.window + 1) * lim.window, lim.window * 2)
                known, pending, in_flight, window_end, ttl = counter
                pending += 1
                self._counters[key] = (known, pending, in_flight, window_end, ttl)
                if pending == 1:
                    first_unsent.append(key)
                counts.append(known + in_flight + pending)
        for key in first_unsent:
            self._batcher.add(key)
        return counts

    def sync(self, keys: Sequence[str]) -> None:
        """Send the unsent hits of `keys` to Redis and take back every process's totals."""
        sending = []
        with self._lock:
            retry, self._unsent = self._unsent, set()
            for key in dict.fromkeys([*retry, *keys]):
                counter = self._counters.get(key)
                if counter is not None and counter[1]:
                    known, pending, _, window_end, ttl = counter
                    self._counters[key] = (known, 0, pending, window_end, ttl)
                    sending.append((key, pending, ttl))
        if not sending:
            return
        try:
            totals = incr_in_redis(
                self._client(),
                [key for key, _, _ in sending],
                [sent for _, sent, _ in sending],
                [ttl for _, _, ttl in sending],
            )
        except Exception:  # keep limiting on this process's own counts (module docstring)
            if time.monotonic() >= self._next_warning:  # once a minute, not every interval
                self._next_warning = time.monotonic() + 60
                log.warning("rate limit counters not synced; counting locally", exc_info=True)
            totals = None
        with self._lock:
            for index, (key, sent, _) in enumerate(sending):
                known, pending, _, window_end, ttl = self._counters[key]
                if totals is None:  # still this process's hits: sent with the next sync
                    self._counters[key] = (known, pending + sent, 0, window_end, ttl)
                    self._unsent.add(key)
                else:
                    self._counters[key] = (totals[index], pending, 0, window_end, ttl)
        self._sweep(time.time())

    def _sweep(self, now: float) -> None:
        """Forget counters whose window has ended (hits of an ended window limit nobody any
        more, sent or not), unless a sync of theirs is under way."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_EVERY
        with self._lock:
            ended = [
                key
                for key, (_, _, in_flight, window_end, _) in self._counters.items()
                if window_end <= now and not in_flight
            ]
            for key in ended:
                del self._counters[key]
            self._unsent.difference_update(ended)

    def __len__(self) -> int:
        return len(self._counters)


synced = SyncedCounters()
