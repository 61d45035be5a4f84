"""The staff form for a webhook endpoint."""

from __future__ import annotations

from django import forms

from feedback.webhooks.models import WebhookEvent


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=2000, label="Endpoint URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(max_length=200, required=False)
