"""The public page of a survey link (`/l/<token>/`, the address its QR code holds): the hosted
survey page of e-mail invitations — server-rendered, no JavaScript needed, phone-sized — in
the language asked for (`?lang=`), else the respondent's, else the browser's
(Accept-Language), among the project's languages.

Answers go through the same answering service onto a display opened by the first answer
(surveys.delivery.links), carrying the link's channel tag and touchpoint, and the link's
hidden fields (`?store=sh-021`) as breakdown values. A GET writes nothing. The respondent is
known only when the link carries `user_id` with its `user_hash` (HMAC-SHA256 under the
project's identity secret, as the widget's identity verification) — required here whatever
the project's widget setting, since a printed link is public; the throttle ledger then
decides whether to ask them now, and single-use links refuse a second answer. An unknown or
deactivated link answers 404, a forged identity 403, a hidden value that cannot be kept 400 —
each a page in words, storing nothing. A printed link is open to anyone, so answers from one
address are limited (LINK_POSTS_PER_MINUTE; 429 past it)."""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_http_methods

from feedback.answering.hosted_views import (
    GONE,
    INVALID,
    StepTarget,
    message_page,
    survey_step_page,
)
from surveys.contacts.identity import user_hash
from surveys.contacts.models import Contact
from surveys.delivery.ledger import contact_resolve, survey_verdict
from surveys.delivery.link_params import MAX_VALUE_LENGTH, HiddenFieldProblem, hidden_values
from surveys.delivery.link_selectors import (
    link_by_token,
    link_display,
    link_display_resumable,
    link_survey_open,
)
from surveys.delivery.links import (
    ALREADY_ANSWERED,
    PERSONAL_LINK,
    link_display_open,
    link_refusal,
)
from surveys.delivery.models import Display, SurveyLink
from surveys.design.targeting import primary_language
from surveys.tenancy.models import Project
from vocsite import rate_limit
from vocsite.client_address import client_address
from vocsite.i18n import django_language

CLOSED = gettext_lazy("This survey is not taking answers at the moment.")
BAD_IDENTITY = gettext_lazy("This personal link is not valid.")
PERSONAL = gettext_lazy("This link is personal: please open it from the invitation you received.")
ALREADY = gettext_lazy("You have already answered this survey. Thank you!")
NOT_NOW = gettext_lazy(
    "Thank you! We asked for your feedback recently, so we will not ask again just now."
)
OPTED_OUT = gettext_lazy("You asked us not to send you surveys, so this one is not shown.")
FULL = gettext_lazy("This survey has all the answers it needs. Thank you!")
HIDDEN_WORDS = {
    "too_long": gettext_lazy("The link's “%(name)s” value is too long (at most %(n)s characters)."),
    "control": gettext_lazy("The link's “%(name)s” value holds characters that are not allowed."),
    "repeated": gettext_lazy("The link gives “%(name)s” more than once."),
}
# What a respondent the ledger or the link turns away reads, by reason; any other reason
# (cooldowns, the frequency cap, a snooze) reads NOT_NOW.
REFUSALS = {
    PERSONAL_LINK: (PERSONAL, 403),
    ALREADY_ANSWERED: (ALREADY, 200),
    "already_responded": (ALREADY, 200),
    "display_limit": (ALREADY, 200),
    "opted_out": (OPTED_OUT, 200),
    "response_cap": (FULL, 200),
}

TOO_MANY = gettext_lazy(
    "Too many answers from your network just now. Please try again in a minute."
)
# Answer steps one client address may send per minute through any link: a store's guest
# Wi-Fi or a carrier's shared address holds many customers, a script flooding a link one.
LINK_POSTS_PER_MINUTE = 60

STEP_SALT = "vocsite.survey-link-step"
STEP_MAX_AGE = timedelta(days=1)


def _languages(project: Project) -> list[str]:
    return [primary_language(lang) for lang in project.languages or []]


def _page_language(request: HttpRequest, project: Project, contact: Contact | None) -> str:
    """`?lang=`, the respondent's language, the browser's (Accept-Language), in that order:
    the first the project speaks; else the project's default."""
    spoken = _languages(project)
    browser = [
        code for code, _q in parse_accept_lang_header(request.headers.get("Accept-Language", ""))
    ]
    for candidate in [request.GET.get("lang"), contact.language if contact else None, *browser]:
        code = primary_language(candidate)
        if code and code in spoken:
            return code
    return project.default_language


def _request_language(request: HttpRequest) -> str:
    """Before the link is known: `?lang=` or the browser's first language."""
    browser = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
    return request.GET.get("lang") or (browser[0][0] if browser else "en")


def _identity_valid(project: Project, user_id: str, given: str) -> bool:
    expected = user_hash(secret=project.identity_secret, user_id=user_id)
    return bool(user_id) and hmac.compare_digest(
        expected.encode(), (given or "").strip().lower().encode()
    )


def _refusal_page(request: HttpRequest, reason: str, language: str) -> HttpResponse:
    message, status = REFUSALS.get(reason, (NOT_NOW, 200))
    return message_page(request, message, language, status=status)


def _step_token(display: Display) -> str:
    return signing.dumps(str(display.pk), salt=STEP_SALT)


def _display_from_step(link: SurveyLink, token: str) -> Display | None:
    try:
        display_id = uuid.UUID(signing.loads(token, salt=STEP_SALT, max_age=STEP_MAX_AGE))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return link_display(link=link, display_id=display_id)


def _attempt(value: str | None) -> uuid.UUID:
    """The page's attempt id as the form sent it back, or a new one."""
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return uuid.uuid4()


@require_http_methods(["GET", "POST"])
def survey_link_page(request: HttpRequest, token: str) -> HttpResponse:
    response = _survey_link_page(request, token)
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _survey_link_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST" and rate_limit.hit(
        [rate_limit.Limit("survey_link_ip", client_address(request), LINK_POSTS_PER_MINUTE)]
    ):
        return message_page(request, TOO_MANY, _request_language(request), status=429)
    link = link_by_token(token)
    if link is None:
        return message_page(request, INVALID, _request_language(request), status=404)
    project = link.project
    if not link_survey_open(link):
        return message_page(request, CLOSED, _page_language(request, project, None), status=404)

    user_id = request.GET.get("user_id", "")
    if (user_id or request.GET.get("user_hash")) and not _identity_valid(
        project, user_id, request.GET.get("user_hash", "")
    ):
        return message_page(
            request, BAD_IDENTITY, _page_language(request, project, None), status=403
        )
    contact = Contact.objects.filter(project=project, user_id=user_id).first() if user_id else None
    if contact is not None and contact.erased_at is not None:
        return message_page(request, GONE, "en", status=410)
    language = _page_language(request, project, contact)
    try:
        segment = hidden_values(link.hidden_fields, dict(request.GET.lists()))
    except HiddenFieldProblem as problem:
        with translation.override(django_language(language)):  # formatted: no longer lazy
            message = HIDDEN_WORDS[problem.code] % {"name": problem.name, "n": MAX_VALUE_LENGTH}
        return message_page(request, message, language, status=400)

    display = None
    step = request.GET.get("r")
    if step:
        display = _display_from_step(link, step)
        if display is None:
            return message_page(request, INVALID, language, status=404)
        if display.contact is not None and display.contact.erased_at is not None:
            return message_page(request, GONE, "en", status=410)
        language = display.language or language
    elif contact is not None:
        display = link_display_resumable(link=link, contact=contact)
    if display is None:
        refusal = "" if user_id else link_refusal(link=link, contact=None)
        if contact is not None:
            refusal = link_refusal(link=link, contact=contact)
            if not refusal:
                verdict = survey_verdict(project=project, contact=contact, survey=link.survey)
                refusal = "" if verdict.show else verdict.reason
        if refusal:
            return _refusal_page(request, refusal, language)

    attempt = _attempt(request.POST.get("attempt")) if request.method == "POST" else uuid.uuid4()

    def display_open() -> Display | HttpResponse:
        person = (
            contact_resolve(project=project, visitor_id=None, user_id=user_id) if user_id else None
        )
        opening = link_display_open(link=link, contact=person, language=language, attempt=attempt)
        if opening.display is None:
            return _refusal_page(request, opening.refusal, language)
        return opening.display

    def next_url(opened: Display) -> str:
        query = urlencode({"r": _step_token(opened), "lang": language})
        return f"{reverse('survey-link-page', args=[link.token])}?{query}"

    survey = link.survey
    return survey_step_page(
        request,
        project=project,
        survey=survey,
        version=display.version if display is not None else survey.current_version,
        language=language,
        display=display,
        target=StepTarget(
            open=display_open,
            next_url=next_url,
            segment=segment,
            meta={"source": "link", "link": link.pk},
            attempt=str(attempt),
        ),
    )
