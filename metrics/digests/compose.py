"""A digest as people read it: its charts drawn (metrics.digests.charts), its texts rendered in
the reader's language, its images referenced by `cid:` in the e-mail or inlined as data: URIs
on the preview page, from the same templates."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from metrics.digests import charts
from metrics.digests.selectors import Digest

METRIC_LABELS = {"nps": "NPS", "csat": "CSAT (%)", "ces": "CES (%)"}


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    images: dict[str, bytes]  # name → PNG


def _estimate(figures: dict | None) -> charts.Estimate:
    figures = figures or {}
    return charts.Estimate(figures.get("score"), figures.get("ci_low"), figures.get("ci_high"))


def digest_images(digest: Digest) -> dict[str, bytes]:
    """The digest's charts (in the active language), by name: only those with something to
    draw."""
    images = {}
    headlines = [
        charts.Headline(
            METRIC_LABELS[metric],
            _estimate((report.get("comparison") or {}).get("previous")),
            _estimate(report.get("total")),
        )
        for metric, report in digest.reports.items()
        if "problem" not in report
    ]
    if any(h.current.score is not None or h.previous.score is not None for h in headlines):
        previous = digest.since - timedelta(days=7)
        images["headline"] = charts.headline_chart(
            headlines, (f"{previous:%m-%d}", f"{digest.since:%m-%d}")
        )
    if digest.movers:
        images["movers"] = charts.change_bars(
            [f"{m['touchpoint']} · {METRIC_LABELS[m['metric']]}" for m in digest.movers],
            [m["diff"] for m in digest.movers],
            gettext("Change against the week before (points)"),
            highlight=[m["significant"] for m in digest.movers],
        )
    topics = [t for t in digest.topics if t["impact"] is not None]
    if topics:
        images["topics"] = charts.interval_bars(
            [t["topic"] for t in topics],
            [charts.Estimate(t["impact"], t["impact_ci_low"], t["impact_ci_high"]) for t in topics],
            gettext("NPS with the topic minus NPS without it (95 % interval)"),
        )
    ages = digest.cases["ages"]
    if ages["total"]:
        images["backlog"] = charts.count_bars(
            [
                gettext("under 1 day"),
                gettext("1–3 days"),
                gettext("3–7 days"),
                gettext("over 7 days"),
            ],
            [ages["under_1d"], ages["d1_3"], ages["d3_7"], ages["over_7d"]],
            gettext("Open cases by age"),
        )
    return images


def content_id(name: str) -> str:
    return f"{name}.digest@vocsite"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def digest_compose(
    digest: Digest, *, image_src: Callable[[str, bytes], str], unsubscribe: str
) -> Composed:
    """Subject, text and HTML of the digest in the active language; `image_src(name, png)`
    says how the HTML refers to each image."""
    images = digest_images(digest)
    base = settings.VOCSITE_BASE_URL.rstrip("/")
    context = {
        "digest": digest,
        "project": digest.project,
        "images": {name: image_src(name, png) for name, png in images.items()},
        "headlines": [
            {"metric": metric, "label": METRIC_LABELS[metric], "report": report}
            for metric, report in digest.reports.items()
        ],
        "movers": [
            {**m, "label": METRIC_LABELS[m["metric"]], "signed_diff": f"{m['diff']:+}"}
            for m in digest.movers
        ],
        "dashboard": f"{base}{reverse('dashboard-executive')}?{digest.querystring}",
        "lead_dashboard": f"{base}{reverse('dashboard-lead')}?{digest.querystring}",
        "inbox": f"{base}{reverse('inbox')}" if digest.show_cases else "",
        "unsubscribe": unsubscribe,
    }
    subject = gettext("%(project)s: your weekly digest, %(since)s – %(until)s") % {
        "project": digest.project.name,
        "since": digest.since.isoformat(),
        "until": digest.until.isoformat(),
    }
    return Composed(
        subject=subject,
        text=render_to_string("email/digest.txt", context),
        html=render_to_string("email/digest.html", context),
        images=images,
    )
