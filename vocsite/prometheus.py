"""Prometheus metrics, served at /metrics (vocsite.views.metrics) by prometheus-client.

What is measured, and where:
- `vocsite_http_request_duration_seconds{route, method}`: every request's time through the
  middleware stack (`RequestMetricsMiddleware`, first in MIDDLEWARE), labelled with the
  resolved URL name — a bounded set, unlike raw paths, which carry ids and keys.
- `vocsite_decide_outcomes_total{reason}`: one increment per decide, next to the count decide
  already keeps in memory for its daily counters (surveys.delivery.decision_log).
- `vocsite_celery_task_failures_total{task}`: Celery's task_failure signal, in the workers.
- `vocsite_queue_depth{queue}` and `vocsite_quarantined_answers`: read when scraped (one
  broker round trip per queue, one COUNT on the small failures table), so they cost nothing
  between scrapes. The quarantined count lives in `feedback`: it plugs in through
  `SCRAPE_GAUGES` (vocsite.registry).

Full mode runs several processes (gunicorn's, Celery's): with PROMETHEUS_MULTIPROC_DIR set
(scripts/fullmode.sh sets it, one directory per host, emptied at start) each process writes
its series to files there and a scrape adds them up, so every web process answers for all.
The directory must be set before prometheus_client is imported, i.e. in the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import kombu.exceptions
from celery.signals import task_failure
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from vocsite.celery import app
from vocsite.publish import BROKER_ERRORS
from vocsite.registry import Registry

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

# The series this process counts; a scrape reads them from here (one process) or from the
# multiprocess directory (full mode).
_SERIES = CollectorRegistry()

REQUEST_SECONDS = Histogram(
    "vocsite_http_request_duration_seconds",
    "Time from the first middleware to the response, per resolved route.",
    ["route", "method"],
    registry=_SERIES,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DECIDE_OUTCOMES = Counter(
    "vocsite_decide_outcomes",
    "Decide calls by their reason (shown, or the rule that held the survey back).",
    ["reason"],
    registry=_SERIES,
)
TASK_FAILURES = Counter(
    "vocsite_celery_task_failures",
    "Celery tasks that ended with an exception (after their retries).",
    ["task"],
    registry=_SERIES,
)

# Gauges a scrape reads from the database, plugged in by the app that owns the rows.
SCRAPE_GAUGES: Registry[Callable[[], int]] = Registry(
    "gauges read on each /metrics scrape", expected=("quarantined_answers",)
)
_GAUGE_HELP = {
    "quarantined_answers": "Answers and messages whose processing kept failing (replay them).",
}
# A path that resolved to no route (a 404) is one label, not one per path tried.
UNMATCHED_ROUTE = "unmatched"


def decide_counted(reason: str) -> None:
    DECIDE_OUTCOMES.labels(reason=reason).inc()


@task_failure.connect
def _task_failed(sender=None, **kwargs) -> None:
    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match is not None else UNMATCHED_ROUTE
        REQUEST_SECONDS.labels(route=route, method=request.method).observe(
            time.perf_counter() - started
        )
        return response


def _queue_depths() -> dict[str, int] | None:
    """Messages waiting in each Celery queue, or None without a reachable broker."""
    if app.conf.task_always_eager:
        return None
    depths = {}
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            for queue in app.conf.task_queues:
                try:
                    declared = channel.queue_declare(queue=queue.name, passive=True)
                    depths[queue.name] = declared.message_count
                except kombu.exceptions.ChannelError:
                    depths[queue.name] = 0  # never declared: nothing was sent to it yet
    except (*BROKER_ERRORS, kombu.exceptions.KombuError, OSError):
        return None
    return depths


class _ScrapeGauges(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = _queue_depths()
        if depths is not None:
            family = GaugeMetricFamily(
                "vocsite_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
            )
            for queue, depth in sorted(depths.items()):
                family.add_metric([queue], depth)
            yield family
        for name, read in SCRAPE_GAUGES.items():
            yield GaugeMetricFamily(f"vocsite_{name}", _GAUGE_HELP[name], value=read())


class _ThisProcess(Collector):
    def collect(self):
        return _SERIES.collect()


def metrics_text() -> bytes:
    """The exposition text of every series: all processes' (multiprocess mode) or this one's,
    then the gauges read now."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_ScrapeGauges())
    return generate_latest(registry)
