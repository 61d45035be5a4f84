"""The staff form for a webhook endpoint (adding one, and editing it)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.webhooks.models import SUBSCRIBABLE_EVENTS


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=2000, label=_("Endpoint URL"), assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(e.value, e.label) for e in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))
