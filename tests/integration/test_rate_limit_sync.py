"""Synced rate counting (vocsite.rate_limit.SyncedCounters) against the real Redis: two
instances stand for two web processes sharing one limit."""

import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from vocsite import rate_limit

pytestmark = pytest.mark.integration
HOUR = 3600  # windows end by the clock (counters of an ended one are forgotten): a long one


@pytest.fixture
def make_counters():
    """SyncedCounters on the real Redis, their sync threads stopped afterwards."""
    made = []

    def make(client=rate_limit._redis):
        made.append(rate_limit.SyncedCounters(interval=lambda: 60.0, client=client))
        return made[-1]

    yield make
    for counters in made:
        counters.close()


def _key(now: float) -> tuple[list[str], list[rate_limit.Limit]]:
    subject = uuid.uuid4().hex
    key = f"rl:test:{subject}:{int(now // HOUR)}"
    return [key], [rate_limit.Limit("test", subject, limit=5, window=HOUR)]


def test_each_process_learns_the_others_hits_at_its_next_sync(make_counters):
    a, b = make_counters(), make_counters()
    now = time.time()
    keys, limits = _key(now)
    assert [a.count(keys, limits, now=now) for _ in range(3)] == [[1], [2], [3]]
    assert [b.count(keys, limits, now=now) for _ in range(2)] == [[1], [2]]
    a.sync(keys)  # Redis: 3
    b.sync(keys)  # Redis: 5, and b knows it
    assert b.count(keys, limits, now=now) == [6]
    assert a.count(keys, limits, now=now) == [4]  # a has not synced since b did
    a.sync(keys)  # Redis: 6 (a's 4th hit), and a knows it
    b.sync(keys)  # Redis: 7 (b's 6th)
    assert a.count(keys, limits, now=now) == [7]
    assert int(rate_limit._redis().get(keys[0])) == 7
    assert 0 < rate_limit._redis().ttl(keys[0]) <= 2 * HOUR


def test_a_flood_split_over_two_processes_overshoots_by_at_most_one_interval(make_counters):
    """Each round is one sync interval with two hits on each process: the limit of 5 lets 7
    through (one process's hits of one interval over), then nothing more."""
    a, b = make_counters(), make_counters()
    now = time.time()
    keys, limits = _key(now)
    allowed_per_round = []
    for _ in range(4):
        allowed_per_round.append(
            sum(c.count(keys, limits, now=now)[0] <= 5 for c in (a, b) for _ in range(2))
        )
        a.sync(keys)
        b.sync(keys)
    assert allowed_per_round == [4, 3, 0, 0]
    assert int(rate_limit._redis().get(keys[0])) == 16


def test_hits_a_failed_sync_kept_are_sent_once_redis_answers(make_counters):
    answers = iter([False, True])

    def flaky():
        if next(answers):
            return rate_limit._redis()
        return redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))

    a = make_counters(client=flaky)
    now = time.time()
    keys, limits = _key(now)
    assert [a.count(keys, limits, now=now) for _ in range(3)] == [[1], [2], [3]]
    a.sync(keys)  # Redis out of reach: kept
    assert rate_limit._redis().get(keys[0]) is None
    a.count(keys, limits, now=now)
    a.sync([])  # the next sync, whatever it was started for, sends them too
    assert int(rate_limit._redis().get(keys[0])) == 4
    assert a.count(keys, limits, now=now) == [5]


def test_the_web_process_thread_sends_the_counts_within_the_interval(settings):
    settings.RATE_LIMIT_SYNC_SECONDS = 0.05
    limit = rate_limit.Limit("thread", uuid.uuid4().hex, limit=100, window=HOUR)
    now = time.time()
    assert [rate_limit.hit([limit], now=now) for _ in range(4)] == [None] * 4
    key = f"rl:thread:{limit.subject}:{int(now // HOUR)}"
    deadline = time.monotonic() + 5
    while int(rate_limit._redis().get(key) or 0) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert int(rate_limit._redis().get(key)) == 4
