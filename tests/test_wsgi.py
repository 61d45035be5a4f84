"""The WSGI entry point leaves the long-lived start-up objects out of the collector's sight
(vocsite/wsgi.py says why), after the view modules are imported."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, sys
import vocsite.wsgi
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "views_imported": "surveys.delivery.widget_api" in sys.modules and "feedback.cases.views" in sys.modules,
}))
"""


def test_importing_the_wsgi_application_freezes_what_start_up_left_alive():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "vocsite.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["views_imported"] is True
    # Django, DRF and the project's modules: well over 50,000 objects, and after the freeze
    # only what the probe itself made is still tracked.
    assert found["frozen"] > 50_000
    assert found["tracked"] < found["frozen"] // 100
