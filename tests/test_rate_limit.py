"""Widget rate limits (vocsite.rate_limit): per IP and per visitor, fixed one-minute windows;
a refused call is a 429 with Retry-After and writes nothing."""

import gc
import time

import pytest
import redis
from django.test import RequestFactory
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.test import APIClient

from surveys.contacts.models import Contact
from tests.factories import ProjectFactory, TouchpointFactory, decisions_counted, published_survey
from vocsite import rate_limit
from vocsite.client_address import client_address

pytestmark = pytest.mark.usefixtures("fresh_rate_counters")


@pytest.fixture
def project(db):
    project = ProjectFactory()
    published_survey(project, touchpoints=[TouchpointFactory(project=project, key="checkout")])
    return project


def _decide(project, visitor, ip="203.0.113.7"):
    return APIClient().post(
        "/api/widget/v1/decide",
        {"key": project.public_key, "visitor_id": visitor, "touchpoint": "checkout"},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_a_visitor_over_its_limit_gets_429_with_retry_after_and_nothing_is_written(
    project, settings
):
    settings.WIDGET_RATE_LIMIT_PER_VISITOR = 3
    assert [_decide(project, "v-1").status_code for _ in range(3)] == [200, 200, 200]
    decisions = decisions_counted().total()
    refused = _decide(project, "v-1")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert decisions_counted().total() == decisions
    assert _decide(project, "v-2").status_code == 200  # another visitor is not affected


def test_an_ip_over_its_limit_is_refused_whatever_the_visitor(project, settings):
    settings.WIDGET_RATE_LIMIT_PER_IP = 2
    assert _decide(project, "a").status_code == 200
    assert _decide(project, "b").status_code == 200
    assert _decide(project, "c").status_code == 429
    assert not Contact.objects.filter(visitor_ids__visitor_id="c").exists()
    assert _decide(project, "c", ip="198.51.100.1").status_code == 200


def test_the_window_resets_and_retry_after_counts_down_to_its_end():
    limit = [rate_limit.Limit("test", "subject", limit=2, window=60)]
    assert rate_limit.hit(limit, now=600.0) is None
    assert rate_limit.hit(limit, now=610.0) is None
    assert rate_limit.hit(limit, now=615.0) == 45.0
    assert rate_limit.hit(limit, now=660.0) is None  # the next minute starts afresh


def test_every_limit_of_a_call_is_counted_and_the_first_exceeded_one_answers():
    wide = rate_limit.Limit("ip", "x", limit=5, window=60)
    narrow = rate_limit.Limit("visitor", "y", limit=1, window=10)
    assert rate_limit.hit([wide, narrow], now=100.0) is None
    assert rate_limit.hit([wide, narrow], now=101.0) == 9.0
    # The refused call was still counted on the wide limit: 2 of 5 used, 3 left.
    assert [rate_limit.hit([wide], now=102.0) for _ in range(4)] == [None, None, None, 18.0]


# ---------------------------------------------------------------- synced counting
# Two SyncedCounters stand for two web processes; `sync` is what each one's thread runs.
# Against the real Redis in tests/integration/test_rate_limit_sync.py; here Redis is out of
# reach (a closed port), which must leave each process limiting on its own counts.


def _unreachable_redis():
    return redis.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))


@pytest.fixture
def offline():
    """A SyncedCounters whose Redis is out of reach; its sync thread is stopped afterwards."""
    counters = rate_limit.SyncedCounters(interval=lambda: 60.0, client=_unreachable_redis)
    yield counters
    counters.close()


def _minute_key(now: float) -> list[str]:
    return [f"rl:ip:x:{int(now // 60)}"]


def test_synced_counters_keep_counting_locally_when_redis_is_out_of_reach(offline, caplog):
    limit = rate_limit.Limit("ip", "x", limit=3, window=60)
    now = time.time()
    keys = _minute_key(now)
    assert [offline.count(keys, [limit], now=now) for _ in range(2)] == [[1], [2]]
    offline.sync(keys)  # fails: the two hits stay this process's, to be sent next time
    assert offline.count(keys, [limit], now=now) == [3]
    assert offline.count(keys, [limit], now=now) == [4]
    assert offline._counters[keys[0]][:3] == (0, 4, 0)  # known, unsent, in flight
    assert keys[0] in offline._unsent
    assert [r.message for r in caplog.records] == [
        "rate limit counters not synced; counting locally"
    ]
    offline.sync(keys)
    assert len(caplog.records) == 1  # one warning a minute, not one per interval


def test_the_exact_path_lets_calls_through_when_redis_is_out_of_reach(settings, caplog):
    """The cache is a Redis nobody listens on (a closed port): every call is let through."""
    settings.RATE_LIMIT_SYNC_SECONDS = 0
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 0)}},
        }
    }
    limit = rate_limit.Limit("ip", "x", limit=1, window=60)
    assert [rate_limit.hit([limit], now=600.0) for _ in range(3)] == [None, None, None]
    assert [r.message for r in caplog.records] == [
        "rate limit counters unavailable; letting the request through"
    ] * 3


def test_synced_counters_forget_ended_windows(offline):
    minute = rate_limit.Limit("ip", "x", limit=3, window=60)
    now = time.time()
    ended, current = _minute_key(now - 120), _minute_key(now)
    offline.count(ended, [minute], now=now - 120)
    offline.count(current, [minute], now=now)
    offline.sync(ended)  # fails; the ended window's hit limits nobody any more
    assert list(offline._counters) == current
    assert offline._unsent == set()
    assert offline.count(current, [minute], now=now) == [2]


def test_synced_counters_give_the_garbage_collector_nothing_to_walk(offline):
    """Tens of thousands of live counters must not lengthen full collections (vocsite/wsgi.py
    says what those pauses cost)."""
    limit = rate_limit.Limit("visitor", "x", limit=3, window=60)
    now = time.time()
    keys = [f"rl:visitor:{i}:{int(now // 60)}" for i in range(200)]
    for key in keys:
        offline.count([key], [limit], now=now)
    gc.collect()
    assert len(offline) == 200
    assert [gc.is_tracked(counter) for counter in offline._counters.values()] == [False] * 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (0, None, "203.0.113.7"),
        (0, "198.51.100.9", "203.0.113.7"),  # nothing in front: the header is the client's own
        (0, "198.51.100.9, 10.0.0.2", "203.0.113.7"),
        (1, None, "203.0.113.7"),
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "198.51.100.9, 10.0.0.2", "10.0.0.2"),
        (1, " 198.51.100.9 ,10.0.0.2 ", "10.0.0.2"),
        (2, "198.51.100.9, 10.0.0.2", "198.51.100.9"),
        (2, "10.0.0.2", "203.0.113.7"),  # shorter than the chain: not through our proxies
        (1, "198.51.100.9, not-an-address", "203.0.113.7"),
    ],
)
def test_the_widget_throttle_names_the_client_behind_the_trusted_proxies(
    proxies, forwarded, client, settings
):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"REMOTE_ADDR": "203.0.113.7"}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().post("/api/widget/v1/decide", **headers)
    assert client_address(request) == client
