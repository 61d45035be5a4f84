"""The architecture holds (DESIGN.md §3): the apps' order and the absence of cycles are checked
by import-linter in `make lint`; what it cannot see is checked here."""

import ast
import json
import re
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


# What runs a statement written by hand: a cursor and its execute, a RawSQL expression, a raw
# queryset, `.extra()`.
RAW_SQL_METHODS = {"cursor", "execute", "executemany", "raw", "extra"}
RAW_SQL_NAMES = {"RawSQL"}
# What a statement (or a piece of one handed to a helper) looks like in a string.
SQL_TEXT = re.compile(
    r"\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bUPDATE\s+\S+\s+SET\b|\bDELETE FROM\b"
    r"|\bWHERE\b|\bON CONFLICT\b|\bFOR UPDATE\b|\bRETURNING\b|^\s*(SELECT|ANALYZE|VACUUM|COPY)\b"
)


def _outside_sql_modules():
    for path in _modules():
        if path.name != "sql.py":
            yield path, ast.parse(path.read_text())


def test_raw_sql_runs_only_in_sql_modules():
    """CONVENTIONS.md: raw SQL lives in modules named `sql.py` behind named functions; domain
    modules call those functions and never run a statement themselves."""
    found = []
    for path, tree in _outside_sql_modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr in RAW_SQL_METHODS) or (
                isinstance(func, ast.Name) and func.id in RAW_SQL_NAMES
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def _strings(tree: ast.AST):
    """The module's string literals but its docstrings, an f-string as one text."""
    docstrings, parts = set(), set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
        if isinstance(node, ast.JoinedStr):
            parts.update(id(value) for value in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield (
                node,
                "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values),
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings | parts
        ):
            yield node, node.value


def test_no_sql_text_is_built_outside_sql_modules():
    """Nor do they write a piece of a statement (a WHERE clause, a suffix) for a helper to run."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _outside_sql_modules()
        for node, text in _strings(tree)
        if SQL_TEXT.search(text)
    ]
    assert found == []


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
