"""Staff pages for a team's chat channels: the team's list with its recent messages, adding,
editing, pausing, deleting, and sending a test message. Admins only
(surveys.tenancy.roles); another project's team or channel, or another team's channel, is a
404. A message's attempts are on the webhook delivery page, the outbox's one log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.webhooks.chat_channels import (
    chat_channel_create,
    chat_channel_delete,
    chat_channel_update,
    chat_test_send,
)
from feedback.webhooks.forms import ChatChannelForm
from feedback.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint
from surveys.tenancy.models import Team
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError


def _team(request: HttpRequest, team_id: int) -> Team:
    return get_object_or_404(Team, project=request.access.project, pk=team_id)


def _channel(request: HttpRequest, team_id: int, channel_id: int) -> WebhookEndpoint:
    return get_object_or_404(
        WebhookEndpoint.objects.select_related("team").exclude(kind=EndpointKind.STANDARD),
        project=request.access.project,
        team_id=team_id,
        pk=channel_id,
    )


def _form_errors_from(error: ApplicationError, form: ChatChannelForm) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@project_view(ADMIN_ROLES)
def team_chat(request: HttpRequest, team_id: int) -> HttpResponse:
    """GET: the team's channels, the form to add one and their recent messages; POST: add."""
    team = _team(request, team_id)
    form = ChatChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            chat_channel_create(
                team=team,
                kind=values["kind"],
                url=values["url"],
                events=values["events"],
                secret=values["secret"],
                description=values["description"],
                actor=request.user,
            )
        except ApplicationError as error:
            _form_errors_from(error, form)
        else:
            messages.success(request, _("Chat channel added. Send a test message to check it."))
            return redirect("team-chat", team_id=team.pk)
    channels = team.chat_channels.exclude(kind=EndpointKind.STANDARD).order_by("pk")
    deliveries = (
        WebhookDelivery.objects.filter(endpoint__team=team)
        .exclude(endpoint__kind=EndpointKind.STANDARD)
        .select_related("endpoint")
        .order_by("-created_at")[:50]
    )
    return render(
        request,
        "feedback/team_chat.html",
        {"team": team, "form": form, "channels": channels, "deliveries": deliveries},
        status=400 if form.errors else 200,
    )


@project_view(ADMIN_ROLES)
def chat_channel_edit(request: HttpRequest, team_id: int, channel_id: int) -> HttpResponse:
    """GET: the channel's settings; POST: save them (a blank secret keeps the current one)."""
    channel = _channel(request, team_id, channel_id)
    if request.method == "POST":
        form = ChatChannelForm(request.POST, editing=True, signed=bool(channel.secret))
        if form.is_valid():
            values = form.cleaned_data
            try:
                chat_channel_update(
                    channel=channel,
                    actor=request.user,
                    url=values["url"],
                    events=values["events"],
                    secret=values["secret"],
                    description=values["description"],
                    remove_secret=values.get("remove_secret", False),
                )
            except ApplicationError as error:
                channel.refresh_from_db()
                _form_errors_from(error, form)
            else:
                messages.success(request, _("Chat channel saved."))
                return redirect("team-chat", team_id=team_id)
    else:
        form = ChatChannelForm(
            editing=True,
            signed=bool(channel.secret),
            initial={
                "url": channel.url,
                "events": channel.events,
                "description": channel.description,
            },
        )
    return render(
        request,
        "feedback/chat_channel.html",
        {"team": channel.team, "channel": channel, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@project_view(ADMIN_ROLES)
def chat_channel_toggle(request: HttpRequest, team_id: int, channel_id: int) -> HttpResponse:
    channel = _channel(request, team_id, channel_id)
    chat_channel_update(channel=channel, actor=request.user, is_active=not channel.is_active)
    return redirect("team-chat", team_id=team_id)


@require_POST
@project_view(ADMIN_ROLES)
def chat_channel_delete_view(request: HttpRequest, team_id: int, channel_id: int) -> HttpResponse:
    chat_channel_delete(channel=_channel(request, team_id, channel_id), actor=request.user)
    messages.success(request, _("Chat channel deleted."))
    return redirect("team-chat", team_id=team_id)


@require_POST
@project_view(ADMIN_ROLES)
def chat_channel_test(request: HttpRequest, team_id: int, channel_id: int) -> HttpResponse:
    delivery = chat_test_send(channel=_channel(request, team_id, channel_id), actor=request.user)
    messages.success(request, _("Test message sent. Its attempts are listed below."))
    return redirect("webhook-delivery", delivery_id=delivery.pk)
