"""Case e-mails through Django's e-mail backend: templated (text + HTML), linking to the case.

Sent by a Celery task enqueued after commit, so a rolled-back case never mails anyone and a
slow SMTP server never holds a request or a pipeline transaction open.

Who hears what:
- created  → the assignee if the rule routed it to someone, else the team's shared address,
             else every agent of the team;
- assigned → the person it was assigned to (not when they claimed it themselves);
- overdue  → the team lead (and the assignee), because escalation is the lead's call.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from feedback.models import Case

SUBJECTS = {
    "created": "[vocsite] New case #{id}: {title}",
    "assigned": "[vocsite] Case #{id} is yours: {title}",
    "overdue": "[vocsite] Overdue case #{id}: {title}",
}


def enqueue_case_email(case: Case, kind: str) -> None:
    """Send the case's `kind` e-mail after commit — unless nobody can receive it.

    A case with neither assignee nor team (the default rules route to nobody) has no
    recipients whatever happens meanwhile: publishing its task cost ~5 ms of worker CPU per
    case (the message, then a case read with its answers) for an e-mail nobody gets."""
    from feedback.pipeline import task_publish
    from feedback.tasks.cases import send_case_email

    if not case_email_addressed(case, kind):
        return
    case_id = case.pk

    def publish_case_email() -> None:
        task_publish(send_case_email, case_id, kwargs={"kind": kind})

    transaction.on_commit(publish_case_email, robust=True)


def case_email_addressed(case: Case, kind: str) -> bool:
    """Whether `case_email_recipients` may find anyone, from the case's own columns. It
    starts with this check, so a recipient rule added there must be let through here."""
    if kind == "overdue":
        return case.team_id is not None or case.assignee_id is not None
    return case.assignee_id is not None or (kind == "created" and case.team_id is not None)


def case_email_recipients(case: Case, kind: str) -> list[str]:
    from feedback.cases import _team_agents

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
            addresses = [u.email for u in _team_agents(case.team) if u.email]
    return list(dict.fromkeys(addresses))


def case_email_send(*, case_id: int, kind: str) -> int:
    """Render and send one case e-mail; returns how many messages went out (0 or 1)."""
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
    message = EmailMultiAlternatives(
        subject=SUBJECTS[kind].format(id=case.pk, title=case.title)[:200],
        body=render_to_string("email/case.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string("email/case.html", context), "text/html")
    return message.send()
