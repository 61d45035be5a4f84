"""The hosted survey page behind an e-mail link: server-rendered, no JavaScript needed,
phone-friendly, in the contact's language (Chinese or English). Survey links show the same
page (`survey_step_page`; feedback.answering.link_views).

A GET never changes anything: mail security scanners fetch every link of an e-mail, and a
scanner must not answer for the customer. A score clicked in the e-mail arrives as
`?score=N` and only pre-selects that score; the answer is stored by the form's POST, which a
small static script sends at once (`static/hosted/survey.js`; a `<noscript>` button does it
without JavaScript). The answers merge into one response (one submission id per e-mailed
display), so sending twice never counts twice.

Also the unsubscribe page (RFC 8058): a GET shows a confirm button, the POST — or a mail
client's one-click POST — opts the person out. Links of an erased person answer 410 Gone and
store nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy, override, pgettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from feedback.answering.models import Response
from feedback.answering.services import AnswerIn, response_submit
from surveys.delivery.email_surveys import (
    SCORED_TYPES,
    contact_from_unsubscribe_token,
    display_from_token,
    submission_id_for,
    token_expired,
)
from surveys.delivery.ledger import contact_opt_out
from surveys.delivery.models import Display
from surveys.design.payload import payload_from_snapshot
from surveys.design.scales import scale_bounds
from surveys.design.show_if import visible_questions
from vocsite.errors import ApplicationError
from vocsite.i18n import django_language

# Fixed texts, translated when the page is rendered in the survey's or contact's language.
EXPIRED = gettext_lazy("This survey link has expired.")
INVALID = gettext_lazy("This survey link is not valid.")
GONE = gettext_lazy("This link is no longer valid.")
REQUIRED = gettext_lazy("Please answer this question.")
THANKS = gettext_lazy("Thank you! Your answer has been received.")
UNSUBSCRIBED = gettext_lazy("You will not receive survey e-mails from us any more.")
NEXT = gettext_lazy("Next")
SEND = pgettext_lazy("survey form button", "Send")


def _render(
    request: HttpRequest, template: str, context: dict, language: str, status: int = 200
) -> HttpResponse:
    """The page with its fixed texts in `language` (a project language code)."""
    with translation.override(django_language(language)):
        return render(request, template, {**context, "lang": language}, status=status)


def _choices(question: dict) -> list[tuple[str, str]]:
    if question["type"] in SCORED_TYPES:
        low, high = scale_bounds(question["type"], question.get("scale"))
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


# The form of the first step says so: a repeated first step (a double click, the script and
# the button both) merges the first answer again instead of being read as the last step.
FIRST_STEP, LATER_STEP = "first", "rest"


class StepResult(NamedTuple):
    finished: bool
    errors: dict[int, str]
    values: dict[int, Any]  # the stored answers with the posted ones over them
    step: str


def message_page(request: HttpRequest, message: str, language: str, status: int = 200):
    """A page that only says `message`, in `language`."""
    return _render(request, "hosted/message.html", {"message": message}, language, status)


def _gone(request: HttpRequest) -> HttpResponse:
    """An erased person's link: nothing is shown and nothing is stored (their language went
    with the rest of their data)."""
    return message_page(request, GONE, "en", status=410)


def _prefill(question: dict, raw: str) -> str | None:
    """A score from the e-mail's link, if it is one of the question's choices."""
    values = {value for value, _ in _choices(question)}
    return raw if question["type"] in SCORED_TYPES and raw in values else None


@require_http_methods(["GET", "POST"])
def hosted_survey(request: HttpRequest, token: str) -> HttpResponse:
    display = display_from_token(token)
    if display is None:
        expired = token_expired(token)
        return message_page(
            request,
            EXPIRED if expired else INVALID,
            django_language(request.GET.get("lang")),
            status=410 if expired else 404,
        )
    if display.contact.erased_at is not None:
        return _gone(request)
    project = display.project
    return survey_step_page(
        request,
        project=project,
        survey=display.survey,
        version=display.version,
        language=display.language or project.default_language,
        display=display,
    )


class StepTarget(NamedTuple):
    """Where a hosted page's answers go when the page has no display yet (a survey link):
    `open` makes the display on the first answer, or returns the page to show instead;
    `next_url` is where the next step is shown once a display holds the answers."""

    open: Callable[[], Display | HttpResponse]
    next_url: Callable[[Display], str]
    segment: Mapping[str, str]
    meta: Mapping[str, Any]
    attempt: str  # names the page shown: the same form sent twice opens one display


def survey_step_page(
    request: HttpRequest,
    *,
    project,
    survey,
    version,
    language: str,
    display: Display | None,
    target: StepTarget | None = None,
) -> HttpResponse:
    """The hosted page of one survey version: the first question, then the ones it leads to,
    each step stored by the form's POST through the answering service. Pages of e-mail links
    come with their display; a survey link's page comes without one and a `target` that opens
    it when the first answer arrives."""
    payload = payload_from_snapshot(
        snapshot=version.snapshot,
        survey=survey,
        project=project,
        version_number=version.number,
        language=language,
        fallback=project.default_language,
    )
    questions = payload["questions"]
    first = questions[0]
    response = (
        Response.objects.filter(display=display).prefetch_related("answers").first()
        if display is not None
        else None
    )
    if response is not None and response.finished:
        return _thanks(request, payload, language)

    values = _stored(response)
    errors: dict[int, str] = {}
    if request.method == "POST":
        if display is None:
            with transaction.atomic():
                opened = target.open()
                if isinstance(opened, HttpResponse):
                    return opened
                result = _answer(request, opened, questions, values, target)
                if result.errors:
                    # A first answer refused leaves nothing behind, its display included.
                    transaction.set_rollback(True)
                else:
                    display = opened
        else:
            result = _answer(request, display, questions, values, target)
        if result.finished:
            return _thanks(request, payload, language)
        if not result.errors:
            return redirect(target.next_url(display) if target else request.path)
        errors, values = result.errors, result.values

    prefilled = None
    if request.method == "GET" and first["id"] not in values:
        # A score clicked in the e-mail: shown selected, stored only by the form's POST.
        prefilled = _prefill(first, request.GET.get("score", ""))
        if prefilled is not None:
            values[first["id"]] = int(prefilled)
    asks_first = (
        prefilled is not None
        or first["id"] not in values
        or (request.method == "POST" and result.step == FIRST_STEP)
    )
    step = [first] if asks_first else visible_questions(questions, values)
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
    score = values.get(first["id"])
    score = score if isinstance(score, int) else 0  # unanswered: ask as if a follow-up comes
    last_step = not asks_first or len(visible_questions(questions, {first["id"]: score})) == 1
    return _render(
        request,
        "hosted/survey.html",
        {
            "project": project,
            "fields": fields,
            "step": FIRST_STEP if asks_first else LATER_STEP,
            "autosubmit": prefilled is not None,
            "button": SEND if last_step else NEXT,
            # Checked #rrggbb colours (surveys.tenancy.theme): they go into a style element,
            # where HTML escaping is no protection.
            "theme": payload["theme"],
            "attempt": target.attempt if target and display is None else "",
        },
        language,
        status=422 if errors else 200,
    )


def _answer(
    request: HttpRequest,
    display,
    questions: list[dict],
    values: dict[int, Any],
    target: StepTarget | None = None,
) -> StepResult:
    """Store the posted step: whether the response is now finished, or the errors to show
    beside the fields with the values as sent (nothing is stored then).

    The first step (the score) finishes the response only when no other question follows it;
    a later step finishes it. A form without its step (an old page) is read by what is stored.
    """
    first = questions[0]
    step = request.POST.get("step", "")
    if step not in (FIRST_STEP, LATER_STEP):
        step = LATER_STEP if first["id"] in values else FIRST_STEP
    if step == LATER_STEP and first["id"] not in values:
        step = FIRST_STEP  # nothing stored yet (a stale page): the score comes first
    step_questions = [first] if step == FIRST_STEP else visible_questions(questions, values)
    posted = {q["id"]: _value(q, request) for q in step_questions}
    values = {**values, **{k: v for k, v in posted.items() if v is not None}}
    if first["id"] not in values:
        return StepResult(False, {first["id"]: REQUIRED}, values, step)
    visible = visible_questions(questions, values)
    visible_ids = {q["id"] for q in visible}
    sent = [qid for qid, value in posted.items() if value is not None and qid in visible_ids]
    finished = step == LATER_STEP or len(visible) == 1
    source = "email_click" if request.POST.get("source") == "email_click" else "hosted_page"
    try:
        # The service's refusals are read by the customer, in the survey's language.
        with override(django_language(display.language or display.project.default_language)):
            response_submit(
                project=display.project,
                display=display,
                submission_id=submission_id_for(display),
                answers=[AnswerIn(qid, posted[qid]) for qid in sent],
                finished=finished,
                meta={"source": source, **(target.meta if target else {})},
                segment=target.segment if target else None,
            )
    except ApplicationError as error:
        errors = _errors_by_question(error, sent) or {first["id"]: error.message}
        return StepResult(False, errors, values, step)
    return StepResult(finished, {}, values, step)


def _thanks(request, payload, language) -> HttpResponse:
    return message_page(request, payload.get("thank_you") or THANKS, language)


@csrf_exempt  # one-click unsubscribe (RFC 8058) is a POST from the mail client, without a form
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The signed token is the authentication. A GET only shows the confirm button (a scanner
    fetching the link unsubscribes nobody); the POST — the button, or the mail client's
    `List-Unsubscribe=One-Click` POST — opts the person out, once."""
    contact = contact_from_unsubscribe_token(token)
    if contact is None:
        return message_page(request, INVALID, "en", status=404)
    if contact.erased_at is not None:
        return _gone(request)
    language = contact.language or "en"
    if request.method == "POST":
        if contact.opted_out_at is None:
            contact_opt_out(contact=contact)
        return message_page(request, UNSUBSCRIBED, language)
    return _render(
        request,
        "hosted/unsubscribe.html",
        {"already": contact.opted_out_at is not None, "when": timezone.now()},
        language,
    )
