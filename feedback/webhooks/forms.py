"""The staff forms for a webhook endpoint and for a team's chat channel (adding, editing)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.webhooks.models import CHAT_EVENTS, CHAT_KINDS, SUBSCRIBABLE_EVENTS


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=2000, label=_("Endpoint URL"), assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(e.value, e.label) for e in SUBSCRIBABLE_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))


class ChatChannelForm(forms.Form):
    """A team's chat channel; the platform is chosen when it is added (`editing` drops it)."""

    kind = forms.ChoiceField(label=_("Platform"), choices=[(k.value, k.label) for k in CHAT_KINDS])
    url = forms.URLField(max_length=2000, label=_("Webhook URL"), assume_scheme="https")
    secret = forms.CharField(
        max_length=100,
        required=False,
        strip=True,
        label=_("Signing secret"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Feishu (optional) and DingTalk (required): the secret from the bot's security "
            "settings. Leave blank to keep the current one."
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("Notify about"),
        choices=[(e.value, e.label) for e in CHAT_EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(max_length=200, required=False, label=_("Description"))
    remove_secret = forms.BooleanField(required=False, label=_("Remove the signing secret"))

    def __init__(self, *args, editing: bool = False, signed: bool = False, **kwargs):
        """`editing`: no platform to choose; `signed`: the channel has a secret to remove."""
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]
        if not (editing and signed):
            del self.fields["remove_secret"]
