"""Each dashboard on the demo data in real Chromium, screenshotted at laptop and tablet size;
every chart's canvas is drawn by Chart.js (pixels painted, not a blank canvas)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = {"laptop": {"width": 1366, "height": 900}, "tablet": {"width": 820, "height": 1180}}
VIEWS = {
    "executive": ("/app/dashboards/", 4),
    "lead": ("/app/dashboards/lead/", 8),
    "lead-csat": ("/app/dashboards/lead/?metric=csat", 8),
    "frontline": ("/app/dashboards/frontline/", 0),
}

# For every canvas: does Chart.js own it, and how many of its pixels are not transparent?
CANVASES = """() => Array.from(document.querySelectorAll('canvas')).map((canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return { chart: !!(window.Chart && window.Chart.getChart(canvas)), painted,
           width: canvas.width, height: canvas.height };
})"""


# Every canvas has its chart and Chart.js has finished animating the first frames.
DRAWN = """() => Array.from(document.querySelectorAll('canvas')).every((canvas) => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  return chart && !window.Chart.animator.running(chart);
})"""


def test_every_view_draws_every_chart(browser, live_server, demo, artifacts):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "viewer")
    page.fill("input[name=password]", "vocsite-demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for name, (path, expected) in VIEWS.items():
            page.goto(f"{live_server.url}{path}")
            page.wait_for_function(DRAWN)
            canvases = page.evaluate(CANVASES)
            assert len(canvases) == expected, (name, size)
            for canvas in canvases:
                assert canvas["chart"], (name, size, canvas)
                assert canvas["width"] > 100 and canvas["height"] > 50, (name, size, canvas)
                # a drawn chart paints a good share of its area (axes, bars, lines, labels)
                assert canvas["painted"] > canvas["width"] * canvas["height"] // 50, (name, canvas)
            assert page.locator("h1").inner_text().strip() == "Dashboards"
            page.screenshot(path=str(artifacts / f"dashboard-{name}-{size}.png"), full_page=True)
    assert errors == []
