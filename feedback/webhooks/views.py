"""Staff pages for webhook endpoints: the list, adding, editing, pausing, deleting, rotating the
secret, sending a test event, and each delivery with its payload and every attempt. Admins only
(surveys.tenancy.roles); another project's endpoint or delivery is a 404."""

from __future__ import annotations

import json

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.answering.pipeline import processing_quarantined_count
from feedback.webhooks.forms import WebhookForm
from feedback.webhooks.models import EndpointKind, WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_replay,
    webhook_secret_rotate,
    webhook_test_send,
)
from surveys.tenancy.models import Team
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError


def _form_errors_from(error: ApplicationError, form: WebhookForm) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@project_view(ADMIN_ROLES)
def webhooks(request: HttpRequest) -> HttpResponse:
    project = request.access.project
    form = WebhookForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhook_endpoint_create(
                project=project,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
            form = WebhookForm()
        except ApplicationError as error:
            _form_errors_from(error, form)
    endpoints = WebhookEndpoint.objects.filter(project=project, kind=EndpointKind.STANDARD)
    deliveries = (  # a team chat channel's messages too: one outbox, one log
        WebhookDelivery.objects.filter(endpoint__project=project)
        .select_related("endpoint__team")
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "feedback/webhooks.html",
        {
            "form": form,
            "endpoints": endpoints.order_by("pk"),
            "deliveries": deliveries,
            "teams": Team.objects.filter(project=project)
            .annotate(channels=Count("chat_channels"))
            .order_by("name"),
            "created": created,
            # feedback.answering.pipeline: what it set aside is counted where admins look after delivery
            "quarantined": processing_quarantined_count(project=project),
        },
        status=400 if form.errors else 200,
    )


def _endpoint(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    """A Standard Webhooks endpoint of the project (a team's chat channel has its own pages)."""
    return get_object_or_404(
        WebhookEndpoint,
        project=request.access.project,
        kind=EndpointKind.STANDARD,
        pk=webhook_id,
    )


def _endpoint_page(
    request: HttpRequest,
    endpoint: WebhookEndpoint,
    form: WebhookForm | None = None,
    *,
    new_secret: str | None = None,
) -> HttpResponse:
    form = form or WebhookForm(
        initial={
            "url": endpoint.url,
            "events": endpoint.events,
            "description": endpoint.description,
        }
    )
    return render(
        request,
        "feedback/webhook_endpoint.html",
        {
            "endpoint": endpoint,
            "form": form,
            "new_secret": new_secret,
            "deliveries": endpoint.deliveries.order_by("-created_at")[:50],
        },
        status=400 if form.errors else 200,
    )


@project_view(ADMIN_ROLES)
def webhook_edit(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """GET: the endpoint, its settings form and its recent deliveries; POST: save the form."""
    endpoint = _endpoint(request, webhook_id)
    if request.method != "POST":
        return _endpoint_page(request, endpoint)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            webhook_endpoint_update(
                endpoint=endpoint,
                actor=request.user,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except ApplicationError as error:
            endpoint.refresh_from_db()
            _form_errors_from(error, form)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhook-edit", webhook_id=endpoint.pk)
    return _endpoint_page(request, endpoint, form)


@require_POST
@project_view(ADMIN_ROLES)
def webhook_toggle(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    webhook_endpoint_update(endpoint=endpoint, actor=request.user, is_active=not endpoint.is_active)
    return redirect("webhooks")


@require_POST
@project_view(ADMIN_ROLES)
def webhook_delete_view(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    url = endpoint.url
    webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Endpoint %(url)s deleted.") % {"url": url})
    return redirect("webhooks")


@require_POST
@project_view(ADMIN_ROLES)
def webhook_rotate_view(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """The new secret is in this reply only (not a redirect, so it is never in a later page)."""
    endpoint = webhook_secret_rotate(endpoint=_endpoint(request, webhook_id), actor=request.user)
    return _endpoint_page(request, endpoint, new_secret=endpoint.secret)


@require_POST
@project_view(ADMIN_ROLES)
def webhook_test_view(request: HttpRequest, webhook_id: int) -> HttpResponse:
    delivery = webhook_test_send(endpoint=_endpoint(request, webhook_id), actor=request.user)
    messages.success(request, _("Test event sent. Its attempts are listed below."))
    return redirect("webhook-delivery", delivery_id=delivery.pk)


@project_view(ADMIN_ROLES)
def webhook_delivery(request: HttpRequest, delivery_id) -> HttpResponse:
    """One delivery: its payload, and each attempt's headers, status code, duration, error in
    words and the start of the reply."""
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint__team"),
        endpoint__project=request.access.project,
        pk=delivery_id,
    )
    return render(
        request,
        "feedback/webhook_delivery.html",
        {
            "delivery": delivery,
            "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
            "attempts": delivery.log.order_by("-number"),
        },
    )


@require_POST
@project_view(ADMIN_ROLES)
def webhook_replay_view(request: HttpRequest, delivery_id) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery, endpoint__project=request.access.project, pk=delivery_id
    )
    webhook_replay(delivery=delivery, actor=request.user)
    messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.pk})
    if request.POST.get("next") == "delivery":
        return redirect("webhook-delivery", delivery_id=delivery.pk)
    return redirect("webhooks")
