"""Fixed texts go through Django's gettext with one catalogue (locale/zh_Hans): customers read
them in the survey's or contact's language (the invitation e-mail, the hosted page, the
widget's texts in the decide and config replies), staff in their browser's language. The
catalogue translates every text the code marks, so a new English text without a translation
fails here."""

from __future__ import annotations

import ast
import contextlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation
from rest_framework.test import APIClient

from feedback.cases.models import AlertRule, Case
from feedback.cases.notifications import case_email_send
from feedback.topics.models import RetagRun, Topic
from surveys.delivery.events import EventIn, event_record
from surveys.design.models import Survey
from surveys.design.targeting import ATTRIBUTE_OPS, URL_OPS
from surveys.tenancy.invitations import member_invite
from surveys.tenancy.models import AuditEntry, Team
from tests.factories import ContactFactory, published_survey
from tests.staff_routes import route_arguments, route_path, staff_routes
from tests.widget_texts import EN_WIDGET_TEXTS, ZH_WIDGET_TEXTS

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# ---------------------------------------------------------------- the catalogue


def _gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install GNU gettext (scripts/services.sh install)")
    return path


def _entries(tool_args: list[str], po: Path) -> list[str]:
    """The msgids `msgattrib` selects from `po`, the header left out."""
    out = subprocess.run(
        [_gettext_tool("msgattrib"), *tool_args, "--no-wrap", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [m for m in re.findall(r'^(?:#~ )?msgid "(.*)"$', out, re.MULTILINE) if m]


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The committed catalogue merged with every text the code marks now, as `make messages`
    would leave it, in a copy of the source tree (makemessages writes to the catalogue beside
    the sources it reads: the committed one is not touched)."""
    _gettext_tool("xgettext")
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(
        settings.BASE_DIR,
        root,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(
            ".*", "__pycache__", "node_modules", "static", "staticfiles", "var", "tests", "bench"
        ),
    )
    with pytest.MonkeyPatch.context() as patch, override_settings(LOCALE_PATHS=[root / "locale"]):
        patch.chdir(root)
        call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    return root / CATALOGUE.relative_to(settings.BASE_DIR)


def test_every_text_the_code_marks_is_in_the_catalogue_and_translated(collected):
    assert _entries(["--untranslated"], collected) == []
    assert _entries(["--only-fuzzy"], collected) == []


def test_the_catalogue_holds_no_text_the_code_no_longer_marks(collected):
    assert _entries(["--only-obsolete"], collected) == []


def test_the_committed_mo_file_is_the_compiled_catalogue(tmp_path):
    """The .mo is what runs (no gettext needed to serve): it must say what the .po says."""
    fresh = tmp_path / "django.mo"
    subprocess.run([_gettext_tool("msgfmt"), "-o", str(fresh), str(CATALOGUE)], check=True)

    def texts(mo: Path) -> str:
        return subprocess.run(
            [_gettext_tool("msgunfmt"), str(mo)], capture_output=True, text=True, check=True
        ).stdout

    assert texts(CATALOGUE.with_suffix(".mo")) == texts(fresh)


# ---------------------------------------------------------------- what customers read


@pytest.fixture
def email_survey(project, touchpoint):
    project.languages = ["en", "zh"]
    project.save()
    return published_survey(project, touchpoints=[touchpoint], channels=["email"])


def _invite(project, language: str, capture_on_commit):
    """The invitation e-mail a contact speaking `language` gets (the survey has no delay)."""
    ContactFactory(project=project, user_id="c-1", email="c1@example.com", language=language)
    with capture_on_commit(execute=True):
        event_record(project=project, data=EventIn(event="checkout_completed", user_id="c-1"))
    (message,) = mail.outbox
    return message


def _plain(text: str) -> str:
    """The text with its links' signed tokens replaced, so it can be compared exactly."""
    return re.sub(r"http://\S+?/(s|u)/[^\s?\"]+", r"<\1-link>", text)


def _scale_lines() -> str:
    return "".join(f"{n}: <s-link>?score={n}\n" for n in range(11))


@pytest.mark.django_db
def test_a_chinese_contacts_invitation_is_in_the_catalogues_chinese(
    project, email_survey, django_capture_on_commit_callbacks
):
    message = _invite(project, "zh", django_capture_on_commit_callbacks)
    assert message.subject == f"{project.name} 想听听您的意见"
    assert _plain(message.body) == (
        "感谢您的支持！只有一个问题，十秒钟即可完成：\n\n"
        "您推荐我们的可能性有多大？\n"
        "点击一个数字即可作答。\n" + _scale_lines() + "\n"
        "在网页上回答: <s-link>\n\n"
        "—\n"
        f"{project.name}\n"
        "不想再收到此类邮件？退订: <u-link>\n\n"
    )
    html = _plain(message.alternatives[0][0])
    assert '<html lang="zh">' in html
    assert (
        '<p style="margin:0 0 8px;color:#57606a">感谢您的支持！只有一个问题，十秒钟即可完成：</p>'
        in html
    )
    assert '<a href="<s-link>" style="color:#4f46e5">在网页上回答</a>' in html
    assert '<a href="<u-link>" style="color:#57606a">不想再收到此类邮件？退订</a>' in html


@pytest.mark.django_db
def test_an_english_contacts_invitation_is_unchanged(
    project, email_survey, django_capture_on_commit_callbacks
):
    message = _invite(project, "en", django_capture_on_commit_callbacks)
    assert message.subject == f"A quick question from {project.name}"
    assert _plain(message.body) == (
        "Thank you for being our customer. One question — it takes ten seconds:\n\n"
        "How likely are you to recommend us?\n"
        "Click a number to answer.\n" + _scale_lines() + "\n"
        "Answer on the web: <s-link>\n\n"
        "—\n"
        f"{project.name}\n"
        "Don't want these e-mails? Unsubscribe: <u-link>\n\n"
    )
    html = _plain(message.alternatives[0][0])
    assert (
        '<a href="<u-link>" style="color:#57606a">Don\'t want these e-mails? Unsubscribe</a>'
        in html
    )


def _links(message) -> dict[str, str]:
    paths = [re.sub(r"^http://[^/]+", "", u) for u in re.findall(r"http://\S+", message.body)]
    return {
        "page": next(p for p in paths if "/s/" in p and "score" not in p),
        "unsubscribe": next(p for p in paths if "/u/" in p),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "zh",
            {
                "question": "您推荐我们的可能性有多大？",
                "ends": "<span>不太可能</span><span>非常可能</span>",
                "next": "下一步",
                "required": "请回答此问题。",
                "thanks": "谢谢！我们已收到您的回答。",
                "unsubscribe_title": "<h1>退订调查邮件</h1>",
                "unsubscribe_button": "退订",
                "unsubscribed": "您将不会再收到我们的调查邮件。",
            },
        ),
        (
            "en",
            {
                "question": "How likely are you to recommend us?",
                "ends": "<span>Not likely</span><span>Very likely</span>",
                "next": "Next",
                "required": "Please answer this question.",
                "thanks": "Thank you! Your answer has been received.",
                "unsubscribe_title": "<h1>Unsubscribe from survey e-mails</h1>",
                "unsubscribe_button": "Unsubscribe",
                "unsubscribed": "You will not receive survey e-mails from us any more.",
            },
        ),
    ],
)
def test_the_hosted_pages_speak_the_contacts_language(
    project, email_survey, django_capture_on_commit_callbacks, language, texts
):
    links = _links(_invite(project, language, django_capture_on_commit_callbacks))
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")  # the browser's language plays no part
    first = client.get(links["page"]).content.decode()
    assert f'<html lang="{language}">' in first
    assert f"<legend>{texts['question']}</legend>" in first
    assert f'<div class="ends" aria-hidden="true">{texts["ends"]}</div>' in first
    assert f'<button type="submit">{texts["next"]}</button>' in first
    missing = client.post(links["page"], {"step": "first"})
    assert missing.status_code == 422
    assert f'role="alert">{texts["required"]}</div>' in missing.content.decode()
    question = email_survey.current_version.snapshot["questions"][0]["id"]
    done = client.post(links["page"], {"step": "first", f"q{question}": "9"})  # no follow-up
    assert f'<p class="message" role="status">{texts["thanks"]}</p>' in done.content.decode()

    unsubscribe = client.get(links["unsubscribe"]).content.decode()
    assert texts["unsubscribe_title"] in unsubscribe
    assert f'<button type="submit">{texts["unsubscribe_button"]}</button>' in unsubscribe
    confirmed = client.post(links["unsubscribe"]).content.decode()
    assert f'<p class="message" role="status">{texts["unsubscribed"]}</p>' in confirmed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("locale", "language", "texts"),
    [("zh-CN", "zh", ZH_WIDGET_TEXTS), ("en-GB", "en", EN_WIDGET_TEXTS)],
)
def test_the_decide_reply_brings_the_widgets_texts_in_the_surveys_language(
    project, touchpoint, locale, language, texts
):
    project.languages = ["en", "zh"]
    project.save()
    published_survey(project, touchpoints=[touchpoint])
    widget = APIClient(HTTP_ORIGIN="http://shop.example", HTTP_ACCEPT_LANGUAGE="fr")
    reply = widget.post(
        "/api/widget/v1/decide",
        {
            "key": project.public_key,
            "visitor_id": "v-1",
            "touchpoint": touchpoint.key,
            "locale": locale,
        },
        format="json",
    ).json()
    assert (reply["show"], reply["survey"]["language"]) == (True, language)
    assert reply["survey"]["texts"] == texts


@pytest.mark.django_db
def test_the_config_reply_brings_the_feedback_tabs_texts_in_each_project_language(project):
    project.languages = ["en", "zh"]
    project.save()
    widget = APIClient(HTTP_ORIGIN="http://shop.example")
    reply = widget.get(f"/api/widget/v1/config?key={project.public_key}")
    assert reply.json()["texts"] == {"en": EN_WIDGET_TEXTS, "zh": ZH_WIDGET_TEXTS}
    assert "Accept-Language" not in reply.get("Vary", "")


# ---------------------------------------------------------------- what staff read


@pytest.fixture
def staff_client(staff_user, survey, respond):
    published_survey(survey.project, name="Unanswered")
    respond(9)
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.django_db
def test_staff_pages_follow_the_browsers_language_with_plurals(staff_client):
    page = staff_client.get("/app/surveys/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content
    page = page.decode()
    assert '<html lang="zh-hans">' in page
    assert '<span class="nav-label">调查</span>' in page
    assert '<span class="nav-label">收件箱</span>' in page
    assert 'title="结果">1 条回答</a></td>' in page
    assert 'title="结果">0 条回答</a></td>' in page
    inbox = staff_client.get("/app/inbox/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<i class="bi bi-inbox"></i> 跟进收件箱</h1>' in inbox
    assert "0 个未结" in inbox
    journey = staff_client.get("/app/journey/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "<code>checkout_completed</code> · " in journey
    assert " · 1 个调查</div>" in journey


@pytest.mark.django_db
def test_staff_pages_stay_english_for_an_english_or_unknown_browser(staff_client):
    for accept in ("en-GB", "fr-FR", ""):
        page = staff_client.get("/app/surveys/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
        assert '<html lang="en">' in page
        assert '<span class="nav-label">Surveys</span>' in page
        assert 'title="Results">1 answer</a></td>' in page
        assert 'title="Results">0 answers</a></td>' in page
    inbox = staff_client.get("/app/inbox/").content.decode()
    assert '<i class="bi bi-inbox"></i> Follow-up inbox</h1>' in inbox
    assert "0 open" in inbox
    journey = staff_client.get("/app/journey/").content.decode()
    assert " · 1 survey</div>" in journey


# ---------------------------------------------------------------- nothing left in English

# English words a Chinese page may show: names of products, standards and statistical methods,
# units, language codes, and the codes and examples that help texts quote (targeting operators,
# attribute names, keywords a topic rule may hold).
ALLOWED_WORDS = {
    *("vocsite", "NPS", "CSAT", "CES", "API", "UTC", "CSV", "XLSX", "JSON", "URL", "SLA", "CLV"),
    *("HTTP", "HTTPS", "HMAC", "SHA", "CORS", "ID", "Webhook", "Benjamini", "Hochberg", "Wilson"),
    *("Wald", "en", "zh", "backend", "plan", "pro", "enterprise", "refund", "refunds"),
    *("refunded", "money", "back", "checkout", "Python", "Node", "Django", "op"),
    # Products' names, and English named in English where languages are offered by their own
    # names (a language picker's convention).
    *("Slack", "Microsoft", "Teams", "Lark", "Standard", "Webhooks", "English"),
    *("store", "region"),  # attribute names in an example, as "plan"
    *URL_OPS,
    *ATTRIBUTE_OPS,
}
# Markup whose text is code or data, not prose.
CODE_TAGS = {"script", "style", "code", "pre", "kbd", "textarea", "samp"}
SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "data-confirm"}
ENGLISH_WORD = re.compile(r"(?<![\w@./:#-])[A-Za-z][a-z]+(?:'[a-z]+)?(?![\w@/:#-])")
CODE_LIKE = re.compile(r"\S*[\d_@/=<>{}]\S*|https?://\S+|\S+\.\S+")


class _ShownText(HTMLParser):
    """The texts of a page a person reads: text nodes outside code, and attributes shown as
    text (placeholders, tooltips, confirmations, buttons' values)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._code_depth = 0
        self._option_value: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in CODE_TAGS:
            self._code_depth += 1
        attributes = dict(attrs)
        # An option that shows its own value (a time zone) shows a code.
        self._option_value = attributes.get("value") if tag == "option" else None
        for name in SHOWN_ATTRIBUTES & attributes.keys():
            self.texts.append(attributes[name] or "")
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.texts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag in CODE_TAGS and self._code_depth:
            self._code_depth -= 1

    def handle_data(self, data):
        if not self._code_depth and data.strip() and data.strip() != self._option_value:
            self.texts.append(data)


def _data_strings(rows) -> list[str]:
    """Every text the demo's rows hold (names, comments, e-mails…): user data, not UI. `rows`
    is the demo's snapshot (tests/sql.py): (table, columns, rows) per table."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            found.add(value)
            if value[:1] in "[{":
                with contextlib.suppress(ValueError):
                    walk(json.loads(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for _table, _columns, table_rows in rows:
        for row in table_rows:
            walk(list(row))
    return sorted((s for s in found if re.search("[A-Za-z]{2}", s)), key=len)[::-1]


def _english_left(texts, data: list[str]) -> set[str]:
    """The texts with an English word that is neither allowed, nor in a code, nor inside user
    data (each text is searched only for the data strings that hold one of its words)."""
    holding: dict[str, list[str]] = {}
    for value in data:
        for word in set(ENGLISH_WORD.findall(value)):
            holding.setdefault(word, []).append(" ".join(value.split()))
    left = set()
    for text in texts:
        text = " ".join(text.split())
        words = [m for m in ENGLISH_WORD.finditer(text) if m.group() not in ALLOWED_WORDS]
        if not words:
            continue
        candidates = {v for m in words for v in holding.get(m.group(), ())}
        if any(text in value for value in candidates):
            continue  # a piece of user data (a comment cut by its highlighted keywords)
        covered = [False] * len(text)  # the characters inside a code or some user data
        for code in CODE_LIKE.finditer(text):
            covered[code.start() : code.end()] = [True] * (code.end() - code.start())
        for value in candidates:
            start = text.find(value)
            while start != -1:
                covered[start : start + len(value)] = [True] * len(value)
                start = text.find(value, start + 1)
        if not all(all(covered[m.start() : m.end()]) for m in words):
            left.add(text)
    return left


@pytest.fixture
def demo_pages(demo):
    """Each staff page of the demo project as its admin reads it in Chinese: name → HTML."""
    RetagRun.objects.create(project=demo, status="running", total=200, done=80)
    admin = get_user_model().objects.get(username="admin")
    sent = member_invite(project=demo, email="someone@example.com", role="viewer", base_url="")
    arguments = {
        "survey_id": Survey.objects.filter(project=demo).first().pk,
        "case_id": Case.objects.filter(project=demo).first().pk,
        "rule_id": AlertRule.objects.filter(project=demo).first().pk,
        "topic_id": Topic.objects.filter(project=demo).first().pk,
        "run_id": RetagRun.objects.get(project=demo).pk,
        "token": sent.link.rstrip("/").rsplit("/", 1)[1],
        "team_id": Team.objects.filter(project=demo).first().pk,
    }
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    client.force_login(admin)
    pages = {}
    for name, route in staff_routes().items():
        if any(n not in arguments for n in route_arguments(route)):
            continue  # a POST target (an action, a key, a delivery…)
        response = client.get(route_path(route, arguments))
        if response.status_code in (302, 405) or "text/html" not in response["Content-Type"]:
            continue
        pages[name] = response.content.decode()
    pages["login"] = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get("/accounts/login/").content.decode()
    return pages


@pytest.mark.django_db
def test_no_staff_page_of_the_demo_shows_english_to_a_chinese_browser(demo, demo_pages, demo_rows):
    # The demo's texts, and what the pages' set-up wrote (the invitation in the audit log).
    data = _data_strings(demo_rows)
    data += AuditEntry.objects.filter(project=demo).values_list("object_repr", flat=True)
    left = {}
    for name, html in sorted(demo_pages.items()):
        parser = _ShownText()
        parser.feed(html)
        if found := _english_left(parser.texts, data):
            left[name] = sorted(found)
    assert left == {}
    assert {"dashboard-executive", "project-settings", "survey-edit", "inbox"} <= set(demo_pages)


@pytest.mark.django_db
def test_staff_e_mails_in_chinese_show_no_english(
    project, survey, respond, staff_user, django_capture_on_commit_callbacks
):
    """The case e-mails (new, assigned, overdue) and the member invitation, sent while Chinese
    is the active language (a staff request from a Chinese browser)."""
    case = Case.objects.get(response=respond(2, "Too slow"))
    Case.objects.filter(pk=case.pk).update(assignee=staff_user)
    with translation.override("zh-hans"):
        for kind in ("created", "assigned", "overdue"):
            assert case_email_send(case_id=case.pk, kind=kind) == 1
        with django_capture_on_commit_callbacks(execute=True):
            member_invite(
                project=project,
                email="someone@example.com",
                role="viewer",
                base_url="http://testserver",
                invited_by=staff_user,
            )
    data = [project.name, case.title, "Too slow", staff_user.get_username()]
    data += [q.text.get("en", "") for q in survey.current_version.questions.all()]
    texts = []
    for message in mail.outbox:
        parser = _ShownText()
        for html, _type in getattr(message, "alternatives", []):
            parser.feed(html)
        texts += [message.subject, *message.body.splitlines(), *parser.texts]
    assert len(mail.outbox) == 4
    assert mail.outbox[0].subject == f"[vocsite] 新工单 #{case.pk}：{case.title}"
    assert _english_left(texts, sorted(data, key=len, reverse=True)) == set()


# ---------------------------------------------------------------- error messages are marked

APPS = ("vocsite", "surveys", "feedback", "metrics")
# Operators' texts, not people's: a management command's output and log lines are read by
# whoever runs the server, and the demo seed's refusal (`demo_not_allowed`) is raised to the
# operator who runs `seed_demo` against a non-demo settings module.
OPERATOR_ONLY = {("metrics/demo/seed.py", "demo_not_allowed")}
MESSAGE_CLASSES = ("HttpResponseBadRequest", "HttpResponseForbidden", "HttpResponseNotFound")


def _unmarked(node: ast.expr) -> list[ast.expr]:
    """The texts in `node` a person would read untranslated: string literals and f-strings
    (also inside lists and dicts of field errors, or formatted with % or .format)."""
    if (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    ):
        return [node]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _unmarked(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return _unmarked(node.func.value) if node.func.attr == "format" else []
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [text for element in node.elts for text in _unmarked(element)]
    if isinstance(node, ast.Dict):
        return [text for value in node.values if value is not None for text in _unmarked(value)]
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return _unmarked(node.elt)
    if isinstance(node, ast.DictComp):
        return _unmarked(node.value)
    if isinstance(node, ast.IfExp):
        return _unmarked(node.body) + _unmarked(node.orelse)
    return []


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _messages(call: ast.Call) -> list[ast.expr]:
    """The arguments of `call` that carry a message for people, by the callee's name."""
    name = _name(call.func)
    keywords = {k.arg: k.value for k in call.keywords}
    if name == "ApplicationError":  # (code, message, fields)
        return call.args[1:3] + [keywords[k] for k in ("message", "fields") if k in keywords]
    if name == "ValidationError":  # serializers' and forms'
        return call.args[:1] + [keywords[k] for k in ("message",) if k in keywords]
    if name == "add_error":
        return call.args[1:2] + [keywords[k] for k in ("error",) if k in keywords]
    if name in {"error", "success", "warning", "info"} and _name(call.func.value) == "messages":
        return call.args[1:2]
    if name in MESSAGE_CLASSES:
        return call.args[:1]
    if name == "_invalid":  # services' one-field ApplicationError helpers: (field, message)
        return call.args[1:2]
    if name in {"append", "extend"} and _collects_problems(call.func.value):
        return call.args[:1]
    return []


# Lists that collect messages before an ApplicationError carries them: `problems`, `bad`,
# `errors` (a CSV import's row problems, Settings' refused origins).
PROBLEM_LISTS = re.compile(r"problem|^bad$|error")


def _collects_problems(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and bool(PROBLEM_LISTS.search(target.id))


def _field_errors(node: ast.Assign) -> list[ast.expr]:
    """The messages of `errors[field] = [...]`: field errors collected before an
    ApplicationError carries them."""
    target = node.targets[0]
    if isinstance(target, ast.Subscript) and "error" in ast.unparse(target.value).lower():
        return [node.value]
    return []


def _operator_only(path: str, call: ast.Call) -> bool:
    code = call.args[0] if call.args else None
    return isinstance(code, ast.Constant) and (path, code.value) in OPERATOR_ONLY


def test_every_error_message_a_person_reads_goes_through_gettext():
    """Services' ApplicationError and the field errors it carries, serializers' and forms'
    ValidationError, form errors, flash messages and bad-request replies reach staff pages and API clients in their language: their
    texts are gettext calls, never plain literals or f-strings. (The sentiment corpus's
    validator is a developer's tool run by hand, like the management commands.)"""
    root = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if {"migrations", "commands", "sentiment_corpus"} & set(path.parts):
                continue
            relative = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Assign):
                    messages = _field_errors(node)
                elif isinstance(node, ast.Call) and not _operator_only(relative, node):
                    messages = _messages(node)
                else:
                    continue
                for message in messages:
                    found += [
                        f"{relative}:{text.lineno}: {ast.unparse(text)[:60]}"
                        for text in _unmarked(message)
                    ]
    assert found == []
