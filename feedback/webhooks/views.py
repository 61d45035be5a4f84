"""Staff pages for webhook endpoints: the list, enabling and disabling, the delivery log and replay."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from feedback.answering.pipeline import processing_quarantined_count
from feedback.webhooks.forms import WebhookForm
from feedback.webhooks.models import WebhookDelivery, WebhookEndpoint
from feedback.webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_replay,
)
from surveys.tenancy.roles import ADMIN_ROLES
from surveys.tenancy.staff import project_view
from vocsite.errors import ApplicationError


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
            for field, problems in error.fields.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
    endpoints = WebhookEndpoint.objects.filter(project=project).order_by("pk")
    deliveries = (
        WebhookDelivery.objects.filter(endpoint__project=project)
        .select_related("endpoint")
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "feedback/webhooks.html",
        {
            "form": form,
            "endpoints": endpoints,
            "deliveries": deliveries,
            "created": created,
            # feedback.answering.pipeline: what it set aside is counted where admins look after delivery
            "quarantined": processing_quarantined_count(project=project),
        },
    )


@require_POST
@project_view(ADMIN_ROLES)
def webhook_toggle(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, project=request.access.project, pk=webhook_id)
    webhook_endpoint_update(endpoint=endpoint, actor=request.user, is_active=not endpoint.is_active)
    return redirect("webhooks")


@require_POST
@project_view(ADMIN_ROLES)
def webhook_replay_view(request: HttpRequest, delivery_id) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery, endpoint__project=request.access.project, pk=delivery_id
    )
    webhook_replay(delivery=delivery, actor=request.user)
    messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.pk})
    return redirect("webhooks")
