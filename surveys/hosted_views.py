"""The hosted survey page behind an e-mail link: server-rendered, no JavaScript needed,
phone-friendly, in the contact's language (Chinese or English). A score clicked in the e-mail
arrives as `?score=N`, is stored at once and the page asks the rest; the answers merge into
one response (one submission id per e-mailed display), so clicking twice never counts twice.
Also the unsubscribe page (a GET shows it, the POST — or a mail client's one-click POST —
opts the person out)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from feedback.models import Response
from feedback.responses import AnswerIn, response_submit
from surveys.email_surveys import (
    contact_from_unsubscribe_token,
    display_from_token,
    submission_id_for,
    token_expired,
)
from surveys.ledger import contact_opt_out, payload_from_snapshot
from vocsite.errors import ApplicationError

PAGE_TEXTS = {
    "en": {
        "next": "Next",
        "send": "Send",
        "thanks": "Thank you! Your answer has been received.",
        "expired": "This survey link has expired.",
        "invalid": "This survey link is not valid.",
        "required": "Please answer this question.",
        "unsubscribe_title": "Unsubscribe from survey e-mails",
        "unsubscribe_button": "Unsubscribe",
        "unsubscribed": "You will not receive survey e-mails from us any more.",
        "low": "Not likely",
        "high": "Very likely",
    },
    "zh": {
        "next": "下一步",
        "send": "提交",
        "thanks": "谢谢！我们已收到您的回答。",
        "expired": "此调查链接已过期。",
        "invalid": "此调查链接无效。",
        "required": "请回答此问题。",
        "unsubscribe_title": "退订调查邮件",
        "unsubscribe_button": "退订",
        "unsubscribed": "您将不会再收到我们的调查邮件。",
        "low": "不太可能",
        "high": "非常可能",
    },
}


def _texts(language: str) -> dict[str, str]:
    return PAGE_TEXTS.get((language or "en")[:2], PAGE_TEXTS["en"])


def _choices(question: dict) -> list[tuple[str, str]]:
    if question["type"] in ("nps", "csat", "ces", "rating"):
        scale = question.get("scale") or {}
        low = scale.get("min", 0 if question["type"] == "nps" else 1)
        high = scale.get("max", 10 if question["type"] == "nps" else 5)
        return [(str(n), str(n)) for n in range(low, high + 1)]
    if question["type"] == "yes_no":
        return [("1", "✓"), ("0", "✗")]
    return [(c["id"], c["text"]) for c in question.get("choices", [])]


def _value(question: dict, request: HttpRequest) -> Any:
    """The posted value of one question as the response service takes it, or None."""
    name = f"q{question['id']}"
    if question["type"] == "multi_choice":
        values = request.POST.getlist(name)
        return values or None
    raw = request.POST.get(name, "")
    if question["type"] == "text":
        return raw.strip() or None
    if not raw:
        return None
    if question["type"] in ("single_choice",):
        return raw
    try:
        return int(raw)
    except ValueError:
        return raw  # refused with a clear message by the response service


def _visible(questions: list[dict], values: dict[int, Any]) -> list[dict]:
    """Questions whose show_if holds for the answers so far (the widget's rule exactly)."""
    out = []
    for question in questions:
        rule = question.get("show_if")
        if rule:
            score = values.get(rule["question_id"])
            if not isinstance(score, int) or not rule["min"] <= score <= rule["max"]:
                continue
        out.append(question)
    return out


def _stored(response: Response | None) -> dict[int, Any]:
    if response is None:
        return {}
    values: dict[int, Any] = {}
    for answer in response.answers.all():
        if answer.value_int is not None:
            values[answer.question_id] = answer.value_int
        elif answer.value_choices:
            values[answer.question_id] = answer.value_choices
        elif answer.value_text:
            values[answer.question_id] = answer.value_text
    return values


def _errors_by_question(error: ApplicationError, sent: list[int]) -> dict[int, str]:
    """Map the service's field names (answers.N.value, questions.ID) to question ids."""
    out: dict[int, str] = {}
    for field, problems in error.fields.items():
        parts = field.split(".")
        if parts[0] == "answers" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(sent):
                out[sent[index]] = problems[0]
        elif parts[0] == "questions" and len(parts) > 1 and parts[1].isdigit():
            out[int(parts[1])] = problems[0]
    return out


@require_http_methods(["GET", "POST"])
def hosted_survey(request: HttpRequest, token: str) -> HttpResponse:
    display = display_from_token(token)
    if display is None:
        texts = _texts(request.GET.get("lang", "en"))
        expired = token_expired(token)
        return render(
            request,
            "hosted/message.html",
            {"message": texts["expired"] if expired else texts["invalid"], "lang": "en"},
            status=410 if expired else 404,
        )
    project = display.project
    language = display.language or project.default_language
    texts = _texts(language)
    payload = payload_from_snapshot(
        snapshot=display.version.snapshot,
        survey=display.survey,
        version_number=display.version.number,
        language=language,
        fallback=project.default_language,
    )
    questions = payload["questions"]
    first = questions[0]
    submission_id = submission_id_for(display)
    response = Response.objects.filter(display=display).prefetch_related("answers").first()
    if response is not None and response.finished:
        return _thanks(request, payload, texts, language)

    errors: dict[int, str] = {}
    if request.method == "GET" and "score" in request.GET:
        # A score clicked in the e-mail: stored at once, then the page asks the rest.
        try:
            score = int(request.GET["score"])
            finished = len(_visible(questions, {first["id"]: score})) == 1
            response_submit(
                project=project,
                display=display,
                submission_id=submission_id,
                answers=[AnswerIn(first["id"], score)],
                finished=finished,
                meta={"source": "email_click"},
            )
        except (ValueError, ApplicationError):
            errors[first["id"]] = texts["required"]
        else:
            return redirect(request.path)

    values = _stored(response)
    if request.method == "POST":
        second_step = first["id"] in values  # the first answer is in: this form asks the rest
        step_questions = _visible(questions, values) if second_step else [first]
        posted = {q["id"]: _value(q, request) for q in step_questions}
        values.update({k: v for k, v in posted.items() if v is not None})
        visible = _visible(questions, values)
        visible_ids = {q["id"] for q in visible}
        sent = [qid for qid, value in posted.items() if value is not None and qid in visible_ids]
        finished = second_step or len(visible) == 1
        if first["id"] not in values:
            errors[first["id"]] = texts["required"]
        else:
            try:
                response_submit(
                    project=project,
                    display=display,
                    submission_id=submission_id,
                    answers=[AnswerIn(qid, posted[qid]) for qid in sent],
                    finished=finished,
                    meta={"source": "hosted_page"},
                )
            except ApplicationError as error:
                errors = _errors_by_question(error, sent) or {first["id"]: error.message}
            else:
                if finished:
                    return _thanks(request, payload, texts, language)
                return redirect(request.path)

    step = _visible(questions, values) if first["id"] in values else [first]
    fields = [
        {
            "q": q,
            "choices": _choices(q),
            "value": values.get(q["id"]),
            "values": [str(v) for v in values.get(q["id"], [])]
            if isinstance(values.get(q["id"]), list)
            else [str(values.get(q["id"], ""))],
            "error": errors.get(q["id"], ""),
        }
        for q in step
    ]
    last_step = first["id"] in values or len(_visible(questions, {first["id"]: 0})) == 1
    return render(
        request,
        "hosted/survey.html",
        {
            "project": project,
            "fields": fields,
            "t": texts,
            "lang": language,
            "button": texts["send"] if last_step else texts["next"],
            "theme_color": (project.theme or {}).get("primary_color", "#4f46e5"),
        },
        status=422 if errors and request.method == "POST" else 200,
    )


def _thanks(request, payload, texts, language) -> HttpResponse:
    return render(
        request,
        "hosted/message.html",
        {"message": payload.get("thank_you") or texts["thanks"], "lang": language},
    )


@csrf_exempt  # one-click unsubscribe (RFC 8058) is a POST from the mail client, without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = contact_from_unsubscribe_token(token)
    texts = _texts(contact.language if contact else "en")
    if contact is None:
        return render(
            request, "hosted/message.html", {"message": texts["invalid"], "lang": "en"}, status=404
        )
    if request.method == "POST":
        if contact.opted_out_at is None:
            contact_opt_out(contact=contact)
        return render(
            request,
            "hosted/message.html",
            {"message": texts["unsubscribed"], "lang": contact.language or "en"},
        )
    return render(
        request,
        "hosted/unsubscribe.html",
        {
            "t": texts,
            "lang": contact.language or "en",
            "already": contact.opted_out_at is not None,
            "when": timezone.now(),
        },
    )
