"""The architecture holds (DESIGN.md §3): the apps' order and the absence of cycles are checked
by import-linter in `make lint`; what it cannot see is checked here."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("vocsite", "surveys", "feedback", "metrics")


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_project_import_is_hidden_inside_a_function():
    """An import placed in a function to dodge a cycle hides the cycle from import-linter. Only
    an app's ready() imports inside a function (Django loads models before it)."""
    hidden = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if id(node) in top or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            if any(name.split(".")[0] in APPS for name in names) and path.name != "apps.py":
                hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []


PROBE = """
import json, sys
import vocsite.wsgi
print(json.dumps(sorted(m for m in ("jieba", "sklearn") if m in sys.modules)))
"""


def test_a_web_process_starts_without_the_text_analysis_libraries():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "vocsite.settings.test", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
