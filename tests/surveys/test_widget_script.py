"""The built widget script: size budget (DESIGN.md §9) and the public names hosts call.

`make test` rebuilds static/widget/voc.js with esbuild before the suite runs, so this measures
the script that ships.
"""

import gzip
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "widget" / "voc.js"


def test_widget_is_at_most_10_kb_gzipped():
    size = len(gzip.compress(SCRIPT.read_bytes(), compresslevel=9))
    print(f"voc.js: {SCRIPT.stat().st_size} bytes, {size} bytes gzipped")
    assert size <= 10 * 1024


def test_widget_exposes_its_api_and_sets_text_safely():
    source = SCRIPT.read_text()
    for name in ("identify", "track", "reset", "openFeedback", "attachShadow", "localStorage"):
        assert name in source
    assert "innerHTML" not in source  # text goes in with textContent only


def test_demo_page_embeds_the_widget_with_one_async_tag(client, db):
    from surveys.tenancy.models import Project

    project = Project.objects.create(name="Demo", is_demo=True)
    html = client.get("/demo/").content.decode()
    assert html.count("widget/voc.js") == 1
    assert (
        f'<script async src="/static/widget/voc.js" data-key="{project.public_key}"></script>'
        in html
    )
