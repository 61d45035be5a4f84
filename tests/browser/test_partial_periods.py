"""Partial periods are drawn differently (issue 25 item 7): on the executive dashboard, with a
date range that starts and ends mid-week, the trend charts' first and last weeks are hollow,
larger points reached by a dashed line; the full weeks between are drawn as before."""

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Per trend chart: the series' partial flags and how Chart.js was told to draw each point and
# each segment (dataset 2 is the score line; 0 and 1 are the interval band).
TRENDS = """() => Array.from(document.querySelectorAll('canvas[data-chart=trend]')).map((canvas) => {
  const series = JSON.parse(document.getElementById(canvas.dataset.source).textContent).series;
  const line = window.Chart.getChart(canvas).data.datasets[2];
  return {
    partial: series.map((p) => p.partial),
    radius: line.pointRadius,
    hollow: line.pointBackgroundColor.map((c) => c === '#fff'),
    dashed: series.slice(1).map((_, i) => Boolean(line.segment.borderDash({p0DataIndex: i, p1DataIndex: i + 1}))),
  };
})"""


def test_weeks_cut_by_the_dates_are_drawn_hollow_and_dashed(browser, live_server, demo):
    today = timezone.now().date()
    # A Wednesday a fortnight back, and the Wednesday eight weeks before it: nine weeks shown,
    # the first and the last cut by the dates, all of them over.
    until = today - timedelta(days=14 + (today.weekday() - 2) % 7)
    since = until - timedelta(weeks=8)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "vocsite-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    page.goto(f"{live_server.url}/app/dashboards/?since={since}&until={until}")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('canvas[data-chart=trend]'))"
        ".every((canvas) => window.Chart && window.Chart.getChart(canvas))"
    )
    trends = page.evaluate(TRENDS)
    assert len(trends) == 3  # NPS, CSAT, CES
    for trend in trends:
        assert trend["partial"] == [True] + [False] * 7 + [True]
        assert trend["radius"] == [4] + [3] * 7 + [4]
        assert trend["hollow"][0] is True and trend["hollow"][-1] is True  # low sample or not
        assert trend["dashed"] == [True] + [False] * 6 + [True]
    assert errors == []
