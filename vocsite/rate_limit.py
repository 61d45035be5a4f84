"""Fixed-window rate counters for the widget API, shared by every web process.

Why not DRF's SimpleRateThrottle: it keeps the list of every request time of the window in
the cache and rewrites it whole on each request — at widget rates that is tens of thousands
of timestamps pickled per call, and two processes racing lose each other's hits. Here each
limit is one integer per window: with Redis, every counter of a request is bumped in one
round trip (a Lua script: INCR, and EXPIRE on a new key), exact under concurrency. A window may let through up to
twice its limit across a boundary, which is what a flood guard needs, not billing precision.

A cache outage lets requests through (the survey rules still hold; losing the site's
surveys to a Redis blip would be worse than a burst).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
KEY_PREFIX = "rl"


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `window` seconds for one subject (an IP, a visitor)."""

    scope: str
    subject: str
    limit: int
    window: int = 60


def _redis():
    """The raw Redis client behind the cache, or None when the cache is not Redis."""
    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
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
        counts = _counts(keys, limits)
    except Exception:  # fail open, loudly (see the module docstring)
        log.warning("rate limit counters unavailable; letting the request through", exc_info=True)
        return None
    for lim, count in zip(limits, counts, strict=True):
        if count > lim.limit:
            return lim.window - (now % lim.window)
    return None


def _counts(keys: list[str], limits: Sequence[Limit]) -> list[int]:
    client = _redis()
    if client is None:  # embedded mode: one process, the local cache is the whole truth
        counts = []
        for key, lim in zip(keys, limits, strict=True):
            cache.add(key, 0, lim.window * 2)
            counts.append(cache.incr(key))
        return counts
    return _incr_script(client)(keys=keys, args=[lim.window * 2 for lim in limits])


# INCR every key and give each new one its expiry, in one command (one EVALSHA instead of a
# pipeline of INCR + EXPIRE pairs: every widget call runs it).
_INCR_ALL = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[i]) end
end
return counts
"""
_scripts: dict[int, object] = {}


def _incr_script(client):
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_INCR_ALL)
    return script
