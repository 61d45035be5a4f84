"""The staff form for a webhook endpoint."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.webhooks.models import WebhookEvent


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=2000, label=_("Endpoint URL"), assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Events")
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))
