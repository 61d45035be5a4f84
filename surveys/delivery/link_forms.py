"""The staff form that makes a survey link; the rules are `links.link_create`'s."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from surveys.delivery.models import LinkMode
from surveys.journey.channels import LINK_CHANNEL_CHOICES
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project


class LinkForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        help_text=_("Where it will be seen, e.g. “Receipts, Shanghai stores”."),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=LINK_CHANNEL_CHOICES)
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), required=False)
    hidden_fields = forms.CharField(
        label=_("Hidden fields"),
        required=False,
        max_length=500,
        help_text=_(
            "Names separated by commas, e.g. “store, region”: the link's ?store=sh-021 is kept "
            "on each answer. Add a name to Settings → breakdown attributes to split results by it."
        ),
    )
    mode = forms.ChoiceField(
        label=_("Who may answer"),
        choices=LinkMode.choices,
        initial=LinkMode.ANONYMOUS,
        help_text=_(
            "Once per known respondent: the link must carry user_id and user_hash signed by "
            "your server, and each person answers once."
        ),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        touchpoints = Touchpoint.objects.filter(project=project, retired_at=None)
        self.fields["touchpoint"].choices = [("", _("None"))] + [
            (t.key, t.name) for t in touchpoints
        ]

    def hidden_field_names(self) -> list[str]:
        raw = self.cleaned_data.get("hidden_fields") or ""
        return [name.strip() for name in raw.split(",") if name.strip()]
