"""The weekly digest's pages: subscribing (the member's own preference), the preview of this
week's digest as it is mailed, and the unsubscribe link of each e-mail."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, gettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from metrics.digests import schedule
from metrics.digests.compose import data_uri, digest_compose
from metrics.digests.forms import DigestSubscriptionForm
from metrics.digests.models import DigestSubscription
from metrics.digests.selectors import digest_build
from metrics.digests.services import (
    digest_subscribe,
    digest_unsubscribe,
    subscriber_language,
    subscriber_zone,
    unsubscribe_token_read,
)
from surveys.tenancy.roles import DIGEST_ROLES
from surveys.tenancy.staff import project_view
from surveys.tenancy.timezones import project_zone
from vocsite.csp import email_preview_page
from vocsite.errors import ApplicationError
from vocsite.i18n import django_language


@project_view(DIGEST_ROLES)
@require_http_methods(["GET", "POST"])
def digest_page(request: HttpRequest) -> HttpResponse:
    """Subscribe to the project's weekly digest (with a timezone and language), change them,
    or unsubscribe; below, this week's digest as it is mailed."""
    project = request.access.project
    subscription = DigestSubscription.objects.filter(project=project, user=request.user).first()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "unsubscribe":
        digest_unsubscribe(project_id=project.pk, user_id=request.user.pk)
        messages.success(request, gettext("You will not receive the weekly digest any more."))
        return redirect("digest")
    if request.method == "POST":
        form = DigestSubscriptionForm(request.POST, project=project)
        if form.is_valid():
            try:
                digest_subscribe(
                    project=project,
                    user=request.user,
                    timezone_name=form.cleaned_data["timezone"],
                    language=form.cleaned_data["language"],
                )
            except ApplicationError as error:
                for field, problems in error.fields.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, gettext("Your weekly digest subscription is saved."))
                return redirect("digest")
        status = 422
    else:
        initial = {"language": django_language(get_language())}
        if subscription is not None:
            initial = {"timezone": subscription.timezone, "language": subscription.language}
        form = DigestSubscriptionForm(initial=initial, project=project)
    zone = subscriber_zone(subscription) if subscription else project_zone(project)
    # Said in the subscriber's own time (the page itself runs in the project's timezone).
    next_send = schedule.next_send_at(timezone.now(), zone).strftime("%Y-%m-%d %H:%M")
    return render(
        request,
        "metrics/digest.html",
        {
            "form": form,
            "subscription": subscription,
            "next_send": next_send,
            "zone": str(zone),
            "covered": schedule.covered_week(timezone.now(), project_zone(project)),
        },
        status=status,
    )


@email_preview_page
@xframe_options_sameorigin
@project_view(DIGEST_ROLES)
def digest_preview(request: HttpRequest) -> HttpResponse:
    """This week's digest as the member would get it (their language if subscribed, else the
    page's), its images inline as data: URIs. Framed by the digest page."""
    project = request.access.project
    subscription = DigestSubscription.objects.filter(project=project, user=request.user).first()
    since, _ = schedule.covered_week(timezone.now(), project_zone(project))
    language = subscriber_language(subscription) if subscription else get_language()
    with translation.override(language):
        composed = digest_compose(
            digest_build(project=project, since=since, role=request.access.role),
            image_src=lambda name, png: data_uri(png),
            unsubscribe=request.build_absolute_uri(reverse("digest")),
        )
    return HttpResponse(composed.html)


@csrf_exempt  # one-click unsubscribe (RFC 8058) is a POST from the mail client, without a form
@require_http_methods(["GET", "POST"])
def digest_unsubscribe_link(request: HttpRequest, token: str) -> HttpResponse:
    """The signed token is the authentication. A GET only shows the confirm button (a link
    scanner unsubscribes nobody); the POST ends the subscription."""
    ids = unsubscribe_token_read(token)
    if ids is None:
        return render(request, "metrics/digest_unsubscribe.html", {"invalid": True}, status=404)
    user_id, project_id = ids
    subscription = (
        DigestSubscription.objects.select_related("project")
        .filter(user_id=user_id, project_id=project_id)
        .first()
    )
    language = subscriber_language(subscription) if subscription else get_language()
    with translation.override(language):
        if request.method == "POST":
            digest_unsubscribe(project_id=project_id, user_id=user_id)
            return render(request, "metrics/digest_unsubscribe.html", {"done": True})
        return render(
            request,
            "metrics/digest_unsubscribe.html",
            {"subscription": subscription, "done": subscription is None},
        )
