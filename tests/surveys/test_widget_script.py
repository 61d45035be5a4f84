"""The widget script: size budget (DESIGN.md §9), the public names hosts call, and its
show_if rule held to the server's (surveys/design/show_if.py); the scales it draws come from
the payload (surveys/design/payload.py), never from a default of its own.

`make test` rebuilds static/widget/voc.js with esbuild before the suite runs, so this measures
the script that ships.
"""

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from surveys.design.payload import payload_from_snapshot
from surveys.design.scales import SCALES, scale_bounds
from surveys.design.show_if import BOUNDS, PAYLOAD_TARGET, shown

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "static" / "widget" / "voc.js"
SOURCE = ROOT / "widget" / "src" / "voc.js"


def _visible_source() -> str:
    found = re.search(r"^function visible\(.*?^}$", SOURCE.read_text(), re.S | re.M)
    assert found, "widget/src/voc.js has no function visible"
    return found.group(0)


def test_the_widgets_show_if_reads_exactly_the_rules_fields():
    assert set(re.findall(r"rule\.(\w+)", _visible_source())) == {*BOUNDS, PAYLOAD_TARGET}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the widget's rule")
def test_the_widgets_show_if_agrees_with_the_servers():
    rules = [
        None,
        {PAYLOAD_TARGET: 1, "min": 0, "max": 6},
        {PAYLOAD_TARGET: 1, "min": 9, "max": 10},
        {PAYLOAD_TARGET: 1, "min": 3, "max": 3},
        {PAYLOAD_TARGET: 2, "min": 0, "max": 10},
    ]
    values = [None, True, False, "7", ["a"], *range(-1, 12)]
    cases = [
        [{"show_if": rule}, {} if value is None else {"1": value}]
        for rule in rules
        for value in values
    ]
    program = (
        _visible_source()
        + "\nconst cases = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(cases.map(([q, a]) => visible(q, a))));"
    )
    run = subprocess.run(
        ["node", "-e", program, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    expected = [
        shown(
            question["show_if"], answers.get(str((question["show_if"] or {}).get(PAYLOAD_TARGET)))
        )
        for question, answers in cases
    ]
    assert json.loads(run.stdout) == expected
    assert expected.count(True) == 18 + 7 + 2 + 1  # no rule; 0–6; 9–10; 3; another question: none


def _function_source(name: str) -> str:
    found = re.search(rf"^function {name}\(.*?^}}$", SOURCE.read_text(), re.S | re.M)
    assert found, f"widget/src/voc.js has no function {name}"
    return found.group(0)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the widget's counter")
def test_the_counter_counts_the_questions_this_person_sees():
    """NPS (1), "why" for detractors (2), "what did you like" for promoters (3), an open
    comment (4): a detractor is asked 1, 2 and 4 — three questions, not four."""
    questions = [
        {"id": 1, "show_if": None},
        {"id": 2, "show_if": {PAYLOAD_TARGET: 1, "min": 0, "max": 6}},
        {"id": 3, "show_if": {PAYLOAD_TARGET: 1, "min": 9, "max": 10}},
        {"id": 4, "show_if": None},
    ]
    steps = [
        ({}, 0),  # the NPS question: both follow-ups may come
        ({"1": 3}, 1),  # a detractor: the promoters' question is gone
        ({"1": 3, "2": "slow"}, 3),
        ({"1": 10}, 2),  # a promoter skips the detractors' question
        ({"1": 7}, 3),  # a passive sees neither
    ]
    program = (
        _function_source("visible")
        + "\n"
        + _function_source("progress")
        + "\nconst [questions, steps] = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(steps.map(([a, at]) => progress(questions, a, at))));"
    )
    run = subprocess.run(
        ["node", "-e", program, json.dumps([questions, steps])],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(run.stdout) == [[1, 4], [2, 3], [3, 3], [2, 3], [2, 2]]


def test_a_cjk_feedback_tab_label_stands_upright():
    source = SOURCE.read_text()
    assert (
        ".tab.upright{transform:translateY(-50%);writing-mode:vertical-rl;text-orientation:upright;"
        in source
    )
    assert "rotate(-90deg)" in source  # a Latin label is still turned on its side


def test_every_scaled_question_carries_its_scale_in_the_payload(survey):
    """The widget draws `question.scale` as sent: a question stored without one gets its
    type's default from the server (surveys.design.scales)."""
    snapshot = {
        "questions": [
            {"id": index, "type": kind, "text": {"en": kind}, "required": False}
            for index, kind in enumerate(SCALES, start=1)
        ]
    }
    payload = payload_from_snapshot(
        snapshot=snapshot,
        survey=survey,
        project=survey.project,
        version_number=1,
        language="en",
        fallback="en",
    )
    assert {q["type"]: q["scale"] for q in payload["questions"]} == {
        kind: dict(zip(("min", "max"), scale_bounds(kind), strict=True)) for kind in SCALES
    }
    assert payload["questions"][list(SCALES).index("ces")]["scale"] == {"min": 1, "max": 7}


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
