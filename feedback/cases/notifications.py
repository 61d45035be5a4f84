"""Case e-mails through Django's e-mail backend: templated (text + HTML), linking to the case;
and case messages to the team's chat channels (Slack, Teams, Feishu, DingTalk, WeCom).

Sent by a Celery task enqueued after commit, so a rolled-back case never mails anyone and a
slow SMTP server never holds a request or a pipeline transaction open.

Who hears what:
- created  → the assignee if the rule routed it to someone, else the team's shared address,
             else every agent of the team;
- assigned → the person it was assigned to (not when they claimed it themselves);
- overdue  → the team lead (and the assignee), because escalation is the lead's call.

No e-mail is lost quietly: one that cannot be built (a recipient address Django refuses) or
that the mail server refuses for good is logged and recorded on the case as an
`email_failed` event in words; a mail server that cannot be reached is retried by the task
(`feedback.tasks.cases.send_case_email`), and recorded so once its last attempt fails.

Chat: a team's channels each choose among new, assigned and overdue cases; the message (score,
comment, survey, status, assignee, a link to the case) is a delivery row of the webhook outbox
written in the case's transaction (feedback.webhooks.chat_channels), so it is retried and
logged like any webhook, and a rolled-back case posts nothing. A new case's message names the
agent it was routed to; "assigned" is a later assignment, claims included (the team sees who
took it), not an unassignment.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from feedback.answering.batch import ResponseBatch
from feedback.cases.models import Case, CaseEvent
from feedback.webhooks.chat_channels import chat_language, chat_notify
from feedback.webhooks.chat_formats import ChatMessage
from surveys.design.models import SCORED_TYPES
from surveys.design.scales import default_scale_max
from surveys.tenancy.selectors import team_agents
from vocsite.mail import email_message
from vocsite.publish import task_publish

logger = logging.getLogger(__name__)

SUBJECTS = {
    "created": _("[vocsite] New case #{id}: {title}"),
    "assigned": _("[vocsite] Case #{id} is yours: {title}"),
    "overdue": _("[vocsite] Overdue case #{id}: {title}"),
}
NAMES = {"created": "new-case", "assigned": "assignment", "overdue": "overdue"}


def enqueue_case_email(case: Case, kind: str) -> None:
    """Send the case's `kind` e-mail after commit — unless nobody can receive it.

    A case with neither assignee nor team (the default rules route to nobody) has no
    recipients whatever happens meanwhile: publishing its task cost ~5 ms of worker CPU per
    case (the message, then a case read with its answers) for an e-mail nobody gets."""
    if not case_email_addressed(case, kind):
        return
    case_id = case.pk

    def publish_case_email() -> None:
        task_publish("feedback.tasks.send_case_email", case_id, kwargs={"kind": kind})

    transaction.on_commit(publish_case_email, robust=True)


def case_email_addressed(case: Case, kind: str) -> bool:
    """Whether `case_email_recipients` may find anyone, from the case's own columns. It
    starts with this check, so a recipient rule added there must be let through here."""
    if kind == "overdue":
        return case.team_id is not None or case.assignee_id is not None
    return case.assignee_id is not None or (kind == "created" and case.team_id is not None)


def case_email_recipients(case: Case, kind: str) -> list[str]:
    if not case_email_addressed(case, kind):
        return []
    addresses: list[str] = []
    if kind == "overdue":
        if case.team_id and case.team.lead_id and case.team.lead.email:
            addresses.append(case.team.lead.email)
        if case.assignee_id and case.assignee.email:
            addresses.append(case.assignee.email)
    elif case.assignee_id:
        addresses = [case.assignee.email] if case.assignee.email else []
    elif kind == "created" and case.team_id:
        if case.team.email:
            addresses = [case.team.email]
        else:
            addresses = [u.email for u in team_agents(case.team) if u.email]
    return list(dict.fromkeys(addresses))


def case_email_send(*, case_id: int, kind: str, last_attempt: bool = True) -> int:
    """Render and send one case e-mail; returns how many messages went out (0 or 1).

    A failure that sending again cannot cure is recorded on the case and returns 0; an
    unreachable mail server raises (for the task to retry) unless this is the `last_attempt`,
    which records it too."""
    if kind not in SUBJECTS:
        return 0
    case = (
        Case.objects.select_related("team__lead", "assignee", "contact", "response__touchpoint")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        return 0
    recipients = case_email_recipients(case, kind)  # before the answers: often nobody
    if not recipients:
        return 0
    answers = (
        list(case.response.answers.select_related("question").order_by("pk"))
        if case.response_id
        else []
    )
    context = {
        "case": case,
        "kind": kind,
        "answers": answers,
        "case_url": f"{settings.VOCSITE_BASE_URL}/app/cases/{case.pk}/",
    }
    try:
        message = email_message(
            subject=SUBJECTS[kind].format(id=case.pk, title=case.title),
            body=render_to_string("email/case.txt", context),
            html=render_to_string("email/case.html", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        message.message()  # every header built now: a refused address fails here, for good
    except ValueError as error:  # BadHeaderError included
        _email_failed(case, kind, recipients, f"it could not be built ({error})", error)
        return 0
    try:
        return message.send()
    except smtplib.SMTPRecipientsRefused as error:
        reason = "the mail server refused the recipient address"
        _email_failed(case, kind, recipients, reason, error)
    except smtplib.SMTPResponseException as error:
        if error.smtp_code < 500 and not last_attempt:
            raise  # a temporary refusal (4xx): the task tries again
        reason = f"the mail server refused it ({error.smtp_code} {_smtp_text(error)})"
        _email_failed(case, kind, recipients, reason, error)
    except OSError as error:  # connection refused, timed out, dropped; other SMTP errors
        if not last_attempt:
            logger.warning("case %s %s e-mail not sent yet: %r", case.pk, kind, error)
            raise
        reason = "the mail server could not be reached"
        _email_failed(case, kind, recipients, reason, error)
    except Exception as error:
        _email_failed(case, kind, recipients, "the e-mail backend failed", error)
        raise
    return 0


def _smtp_text(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:200]


def _email_failed(
    case: Case, kind: str, recipients: list[str], reason: str, error: BaseException
) -> None:
    """Log the failure and put it on the case's timeline, where the team will see it."""
    logger.error(
        "case %s %s e-mail to %s not sent: %s", case.pk, kind, recipients, reason, exc_info=error
    )
    CaseEvent.objects.create(
        case=case,
        kind="email_failed",
        note=f"The {NAMES[kind]} e-mail to {', '.join(recipients)} was not sent: {reason}.",
    )


# ---------------------------------------------------------------- team chat

CHAT_HEADLINES = {
    "case.created": _("New case #{id}: {title}"),
    "case.assigned": _("Case #{id} assigned to {assignee}: {title}"),
    "case.overdue": _("Overdue case #{id}: {title}"),
}
CHAT_TONES = {"case.created": "warning", "case.assigned": "info", "case.overdue": "alert"}
SCORE_NAMES = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "rating": _("Rating")}


def case_chat_notify(
    case: Case,
    event: str,
    *,
    subject: str,
    contact_id: int | None,
    batch: ResponseBatch | None = None,
) -> int:
    """Queue `event` ("case.created", "case.assigned", "case.overdue") for the case's team's
    chat channels that chose it; a case without a team tells no channel (and reads nothing)."""
    if case.team_id is None or event not in CHAT_HEADLINES:
        return 0
    return chat_notify(
        team_id=case.team_id,
        event=event,
        subject=subject,
        contact_id=contact_id,
        message=lambda: case_chat_message(case, event),
        batch=batch,
    )


def _score_and_comment(case: Case) -> tuple[str, str, str]:
    """(score, comment, survey) in words: the answer's first score (with its scale's top) and
    first text, or the Feedback-tab message's rating and text."""
    if case.response_id is not None:
        response = case.response
        answers = list(response.answers.select_related("question").order_by("pk"))
        score = ""
        for answer in answers:
            if answer.value_int is not None and answer.question_type in SCORED_TYPES:
                top = answer.question.scale_max or default_scale_max(answer.question_type)
                name = SCORE_NAMES.get(answer.question_type, answer.question_type)
                score = f"{name} {answer.value_int}/{top}"
                break
        comment = next((a.value_text for a in answers if a.value_text), "")
        return score, comment, response.survey.name
    if case.feedback_id is not None:
        feedback = case.feedback
        score = f"{feedback.rating}/5" if feedback.rating is not None else ""
        return score, feedback.text, gettext("Feedback tab")
    return "", "", ""


def case_chat_message(case: Case, event: str) -> ChatMessage:
    """The case's chat message in the project's default language."""
    with translation.override(chat_language(case.project.default_language)):
        assignee = case.assignee.get_username() if case.assignee_id else ""
        score, comment, survey = _score_and_comment(case)
        facts = [
            (gettext("Score"), score or "—"),
            (gettext("Survey"), survey or "—"),
            (gettext("Status"), str(case.get_status_display())),
            (gettext("Assignee"), assignee or pgettext("case assignee", "nobody yet")),
            (gettext("Priority"), str(case.get_priority_display())),
            (gettext("Team"), case.team.name),
        ]
        headline = str(CHAT_HEADLINES[event]).format(
            id=case.pk, title=case.title, assignee=assignee
        )
        return ChatMessage(
            headline=headline,
            facts=tuple(facts),
            comment=comment,
            link_label=gettext("Open the case"),
            link_url=f"{settings.VOCSITE_BASE_URL}/app/cases/{case.pk}/",
            tone=CHAT_TONES[event],
        )
