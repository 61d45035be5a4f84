"""The digest page's form: the subscriber's timezone and language (blank: the project's)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from surveys.tenancy.models import Project
from surveys.tenancy.project_settings import timezone_names


class DigestSubscriptionForm(forms.Form):
    timezone = forms.ChoiceField(label=_("Your timezone"), required=False)
    language = forms.ChoiceField(label=_("Language of the e-mail"), required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [
            ("", gettext("The project's (%(zone)s)") % {"zone": project.timezone or "UTC"}),
            *((name, name) for name in timezone_names()),
        ]
        self.fields["language"].choices = [
            ("", gettext("The project's default")),
            *settings.LANGUAGES,
        ]
