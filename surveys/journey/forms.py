"""The journey map's editing forms: what people type, turned into the services' input. The
rules (unique keys, names, positions, history) are checked by `surveys.journey.services`."""

from __future__ import annotations

from django import forms
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from surveys.journey.models import JourneyStage
from surveys.tenancy.models import Channel, Project


class StageForm(forms.Form):
    key = forms.SlugField(
        max_length=64,
        label=_("Key"),
        help_text=escape(_("Letters, digits, - and _; it never changes.")),
    )
    name = forms.CharField(max_length=100, label=_("Name"))


class TouchpointForm(forms.Form):
    key = forms.SlugField(
        max_length=100,
        label=_("Key"),
        help_text=escape(_("What the app sends: voc.track(key). It never changes.")),
    )
    name = forms.CharField(max_length=200, label=_("Name"))
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.WEB)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["stage"].choices = [("", _("No stage"))] + [
            (stage.key, stage.name) for stage in JourneyStage.objects.filter(project=project)
        ]

    def clean_stage(self) -> JourneyStage | None:
        key = self.cleaned_data["stage"]
        return JourneyStage.objects.filter(project=self.project, key=key).first() if key else None


class RenameForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))


class MoveForm(forms.Form):
    """Where a dragged touchpoint was dropped: its stage (empty: no stage) and place there."""

    stage = forms.SlugField(max_length=64, required=False)
    position = forms.IntegerField(min_value=0, max_value=10_000)
