"""Synced rate counting (vocsite.rate_limit.SyncedCounters) against the real Redis: two
instances stand for two web processes sharing one limit."""

import time
import uuid

import pytest

from vocsite import rate_limit

pytestmark = pytest.mark.integration
MINUTE = 60
NOW = time.time()  # windows end by the clock: counters of an ended one are forgotten


def _pair():
    return [
        rate_limit.SyncedCounters(interval=lambda: 60.0, client=rate_limit._redis) for _ in range(2)
    ]


def _key() -> tuple[list[str], list[rate_limit.Limit]]:
    subject = uuid.uuid4().hex
    key = f"rl:test:{subject}:{int(NOW // MINUTE)}"
    return [key], [rate_limit.Limit("test", subject, limit=5, window=MINUTE)]


def test_each_process_learns_the_others_hits_at_its_next_sync():
    a, b = _pair()
    keys, limits = _key()
    assert [a.count(keys, limits, now=NOW) for _ in range(3)] == [[1], [2], [3]]
    assert [b.count(keys, limits, now=NOW) for _ in range(2)] == [[1], [2]]
    a.sync(keys)  # Redis: 3
    b.sync(keys)  # Redis: 5, and b knows it
    assert b.count(keys, limits, now=NOW) == [6]
    assert a.count(keys, limits, now=NOW) == [4]  # a has not synced since b did
    a.sync(keys)  # Redis: 6 (a's 4th hit), and a knows it
    b.sync(keys)  # Redis: 7 (b's 6th)
    assert a.count(keys, limits, now=NOW) == [7]
    assert int(rate_limit._redis().get(keys[0])) == 7
    assert 0 < rate_limit._redis().ttl(keys[0]) <= 2 * MINUTE


def test_a_flood_split_over_two_processes_overshoots_by_at_most_one_interval():
    """Each round is one sync interval with two hits on each process: the limit of 5 lets 7
    through (one process's hits of one interval over), then nothing more."""
    a, b = _pair()
    keys, limits = _key()
    allowed_per_round = []
    for _ in range(4):
        allowed_per_round.append(
            sum(c.count(keys, limits, now=NOW)[0] <= 5 for c in (a, b) for _ in range(2))
        )
        a.sync(keys)
        b.sync(keys)
    assert allowed_per_round == [4, 3, 0, 0]
    assert int(rate_limit._redis().get(keys[0])) == 16


def test_the_web_process_thread_sends_the_counts_within_the_interval(settings):
    settings.RATE_LIMIT_SYNC_SECONDS = 0.05
    limit = rate_limit.Limit("thread", uuid.uuid4().hex, limit=100, window=MINUTE)
    now = time.time()
    assert [rate_limit.hit([limit], now=now) for _ in range(4)] == [None] * 4
    key = f"rl:thread:{limit.subject}:{int(now // MINUTE)}"
    deadline = time.monotonic() + 5
    while rate_limit._redis().get(key) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert int(rate_limit._redis().get(key)) == 4
