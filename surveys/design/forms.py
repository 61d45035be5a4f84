"""Survey designer forms: settings (with every anti-nagging rule explained in plain words) and
a formset of questions (add, reorder, remove), with texts per project language.

The forms only turn what people type into the service's input (`QuestionIn`, settings); the
rules themselves are checked by `surveys.services`, and its field errors are put back beside
the field they concern (`apply_service_errors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import escape
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from surveys.design.models import Question, QuestionType, Survey, SurveyChannel
from surveys.design.scales import (
    CHOICE_TYPES,
    HIGHEST_SCORE,
    LOWEST_SCORE,
    SCALE_MAXIMA,
    SCALES,
)
from surveys.design.services import QuestionIn
from surveys.design.survey_settings import (
    BOOLEAN,
    CHOICE,
    DATETIME,
    DECIMAL,
    INTEGER,
    SCALAR_SETTINGS,
    TEXT,
    Setting,
)
from surveys.design.survey_templates import TEMPLATES
from surveys.design.targeting import ATTRIBUTE_OPS, URL_OPS
from surveys.tenancy.languages import language_name
from surveys.tenancy.models import Project
from surveys.tenancy.theme import HEX_COLOR, theme_colors

# What the designer says beside each survey setting (the settings themselves, their kinds and
# bounds are declared in surveys.design.survey_settings).
SETTING_TEXTS: dict[str, dict[str, str]] = {
    "name": {"label": _("Name")},
    "display_option": {
        "label": _("How often one person may see it"),
        "help_text": escape(
            _("“Show once” never repeats; “until responded” stops after an answer.")
        ),
    },
    "display_limit": {"label": _("At most this many times")},
    "recontact_days": {
        "label": _("Wait between two showings (days)"),
        "help_text": escape(_("Empty: the project's global cooldown.")),
    },
    "recurrence_days": {
        "label": _("Ask again every (days)"),
        "help_text": escape(
            _(
                "A relationship survey: each person is asked again this many days after they "
                "last saw it, answered or not. Empty: ask once. Cooldowns and the frequency "
                "cap still apply."
            )
        ),
    },
    "bypass_global_cooldown": {
        "label": _("Ignore the global cooldown"),
        "help_text": escape(
            _(
                "For surveys people trigger themselves (e.g. cancelling); the frequency cap "
                "still applies."
            )
        ),
    },
    "snooze_days_after_dismiss": {
        "label": _("Days of quiet after someone closes it"),
        "help_text": escape(
            _("A dismissed survey is not shown again to that person for this long.")
        ),
    },
    "sample_percent": {
        "label": _("Ask this share of people (%)"),
        "help_text": escape(_("Sticky: the same person always gets the same answer.")),
    },
    "response_cap": {"label": _("Stop after this many answers")},
    "priority": {
        "label": _("Priority"),
        "help_text": escape(_("When several surveys could show at once, the highest wins.")),
    },
    "delay_seconds": {"label": _("Wait before showing (seconds)")},
    "auto_close_seconds": {"label": _("Close by itself after (seconds)")},
    "starts_at": {"label": _("Starts")},
    "ends_at": {"label": _("Ends")},
}


def _setting_field(setting: Setting) -> forms.Field:
    texts = SETTING_TEXTS[setting.name]
    required = not setting.nullable
    if setting.kind == TEXT:
        return forms.CharField(max_length=setting.high, **texts)
    if setting.kind == INTEGER:
        return forms.IntegerField(
            required=required, min_value=setting.low, max_value=setting.high, **texts
        )
    if setting.kind == DECIMAL:
        return forms.DecimalField(
            min_value=setting.low, max_value=setting.high, decimal_places=2, **texts
        )
    if setting.kind == BOOLEAN:
        return forms.BooleanField(required=False, **texts)
    if setting.kind == CHOICE:
        return forms.ChoiceField(choices=setting.choices, **texts)
    if setting.kind == DATETIME:
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
        return forms.DateTimeField(required=required, widget=widget, **texts)
    raise ValueError(f"no form field for the {setting.kind} setting {setting.name}")


# One field per setting that every surface shapes the same way.
SettingFields = type(forms.Form)(
    "SettingFields",
    (forms.Form,),
    {"__module__": __name__, **{s.name: _setting_field(s) for s in SCALAR_SETTINGS}},
)


class SurveyFromTemplateForm(forms.Form):
    """A new draft from a template, under the name the designer gives it (the template's name
    is offered)."""

    template = forms.ChoiceField(
        choices=[(key, key) for key in TEMPLATES], widget=forms.HiddenInput
    )
    name = forms.CharField(
        max_length=200,
        label=_("Name"),
        error_messages={"required": _("Give the survey a name.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One form per template on the page: ids that tell them apart.
        key = self.data.get("template") if self.is_bound else self.initial.get("template")
        self.auto_id = f"new-{key}-%s"


class SurveySettingsForm(SettingFields):
    touchpoints = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Touchpoints"),
        help_text=escape(
            _("Where in the journey the survey may appear (voc.track(key) in the app).")
        ),
    )
    channels = forms.MultipleChoiceField(
        choices=SurveyChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        label=_("Channels"),
        help_text=escape(_("In the app, by e-mail, or both — one set of contact rules for all.")),
    )
    target_languages = forms.CharField(
        required=False,
        label=_("Only these languages"),
        help_text=escape(_("Comma-separated codes, e.g. en, zh. Empty: everyone.")),
    )
    target_urls = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Only on pages"),
        help_text=escape(
            format_lazy(
                _("One rule per line: <op> <text>, op one of {ops}. e.g. “contains /checkout”."),
                ops=", ".join(URL_OPS),
            )
        ),
    )
    target_attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Only for people with"),
        help_text=escape(
            format_lazy(
                _(
                    "One rule per line: <attribute> <op> <value>, op one of {ops}; “in” takes a "
                    "comma list. e.g. “plan in pro,enterprise”."
                ),
                ops=", ".join(ATTRIBUTE_OPS),
            )
        ),
    )
    # A colour input always sends a colour (black when never touched), so whether the survey
    # has a colour of its own is a choice of its own.
    own_color = forms.BooleanField(required=False, label=_("Its own accent colour"))
    theme_color = forms.RegexField(
        regex=rf"^{HEX_COLOR.pattern}$",
        required=False,
        label=_("Accent colour"),
        help_text=escape(
            _("Buttons and the chosen score, in the widget and on the e-mail survey page.")
        ),
        error_messages={"invalid": _("A colour written #rrggbb, e.g. #4f46e5.")},
        widget=forms.TextInput(attrs={"type": "color"}),
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        # A retired touchpoint is offered no more, but one the survey already has stays listed.
        kept = set(self.initial.get("touchpoints") or [])
        if self.is_bound:
            kept |= set(
                self.data.getlist(self.add_prefix("touchpoints"))
                if hasattr(self.data, "getlist")
                else []
            )
        # A touchpoint retired itself or in a retired stage shows no survey: offered only
        # where the survey already has it, marked retired.
        touchpoints = project.touchpoints.select_related("stage").order_by("position", "name")
        self.fields["touchpoints"].choices = [
            (t.key, f"{t.name} ({_('retired')})" if retired else t.name)
            for t in touchpoints
            for retired in [t.retired_at is not None or bool(t.stage and t.stage.retired_at)]
            if not retired or t.key in kept
        ]
        project_color = theme_colors(project.theme)["primary_color"]
        self.fields["own_color"].help_text = escape(
            gettext("Off: the project's colour, %(color)s (Settings).") % {"color": project_color}
        )
        if not self.initial.get("theme_color"):
            self.initial["theme_color"] = project_color
        self.fields["recontact_days"].help_text = escape(
            ngettext(
                "Empty: the project's global cooldown (%(days)s day).",
                "Empty: the project's global cooldown (%(days)s days).",
                project.recontact_days,
            )
            % {"days": project.recontact_days}
        )
        for lang in project_languages(project):
            self.fields[f"thank_you_{lang}"] = forms.CharField(
                required=False,
                max_length=500,
                label=gettext("Thank-you message (%(language)s)")
                % {"language": language_name(lang)},
            )

    @classmethod
    def initial_for(cls, survey: Survey) -> dict[str, Any]:
        targeting = survey.targeting or {}
        initial = {
            **{s.name: getattr(survey, s.name) for s in SCALAR_SETTINGS},
            "touchpoints": [t.key for t in survey.touchpoints.all()],
            "channels": survey.channels,
            "target_languages": ", ".join(targeting.get("languages") or []),
            "target_urls": "\n".join(
                f"{r.get('op')} {r.get('value')}" for r in targeting.get("urls") or []
            ),
            "target_attributes": "\n".join(
                _attribute_line(r) for r in targeting.get("attributes") or []
            ),
            "own_color": bool((survey.theme or {}).get("primary_color")),
            "theme_color": (survey.theme or {}).get("primary_color", ""),
        }
        for lang, text in (survey.thank_you or {}).items():
            initial[f"thank_you_{lang}"] = text
        return initial

    def clean_target_urls(self) -> list[dict]:
        rules = []
        for line in self.cleaned_data["target_urls"].splitlines():
            if not line.strip():
                continue
            op, _, value = line.strip().partition(" ")
            if op not in URL_OPS or not value.strip():
                raise forms.ValidationError(
                    gettext("“%(line)s”: write <op> <text>.") % {"line": line.strip()}
                )
            rules.append({"op": op, "value": value.strip()})
        return rules

    def clean_target_attributes(self) -> list[dict]:
        rules = []
        for line in self.cleaned_data["target_attributes"].splitlines():
            parts = line.split(None, 2)
            if not parts:
                continue
            if len(parts) < 2 or parts[1] not in ATTRIBUTE_OPS:
                raise forms.ValidationError(
                    gettext("“%(line)s”: write <attribute> <op> <value>.") % {"line": line.strip()}
                )
            attribute, op = parts[0], parts[1]
            value: Any = parts[2].strip() if len(parts) > 2 else None
            if op in ("in", "not_in"):
                value = [v.strip() for v in (value or "").split(",") if v.strip()]
            elif op not in ("exists", "not_exists") and not value:
                raise forms.ValidationError(
                    gettext("“%(line)s”: which value?") % {"line": line.strip()}
                )
            rule = {"attribute": attribute, "op": op}
            if value is not None:
                rule["value"] = value
            rules.append(rule)
        return rules

    def clean(self):
        data = super().clean()
        wants_color = data.get("own_color") and not data.get("theme_color")
        if wants_color and "theme_color" not in self.errors:
            self.add_error("theme_color", gettext("Pick the survey's colour."))
        return data

    def clean_target_languages(self) -> list[str]:
        raw = self.cleaned_data["target_languages"]
        return [lang.strip() for lang in raw.split(",") if lang.strip()]

    def settings_values(self) -> tuple[dict[str, Any], list[str]]:
        """(survey settings for the service, touchpoint keys)."""
        data = self.cleaned_data
        targeting = {
            key: value
            for key, value in (
                ("languages", data["target_languages"]),
                ("urls", data["target_urls"]),
                ("attributes", data["target_attributes"]),
            )
            if value
        }
        theme = {"primary_color": data["theme_color"].lower()} if data["own_color"] else {}
        values = {s.name: data[s.name] for s in SCALAR_SETTINGS}
        values["channels"] = data["channels"]
        values["targeting"] = targeting
        values["theme"] = theme
        values["thank_you"] = {
            lang: data[f"thank_you_{lang}"]
            for lang in project_languages(self.project)
            if data.get(f"thank_you_{lang}")
        }
        return values, list(data["touchpoints"])


def _attribute_line(rule: dict) -> str:
    value = rule.get("value")
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return " ".join(str(p) for p in (rule.get("attribute"), rule.get("op"), value) if p is not None)


def project_languages(project: Project) -> list[str]:
    languages = list(project.languages or [])
    if project.default_language not in languages:
        languages.insert(0, project.default_language)
    return languages


SCALE_CHOICES = [(m, format_lazy(_("up to {maximum}"), maximum=m)) for m in SCALE_MAXIMA]


# A scale's end labels ("Not likely" … "Very likely"), per language in the designer.
SCALE_END_LABELS = {
    "min": _("Lowest score's label (%(language)s)"),
    "max": _("Highest score's label (%(language)s)"),
}


class QuestionForm(forms.Form):
    # Blank by default so the empty "add a question" form stays unchanged until used.
    type = forms.ChoiceField(
        choices=[("", _("— choose a type —")), *QuestionType.choices], label=_("Type")
    )
    required = forms.BooleanField(required=False, initial=True, label=_("Required"))
    scale_max = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("default")), *SCALE_CHOICES],
        label=_("Scale"),
        help_text=escape(_("CSAT 1–3/5/7, CES 1–5/7, rating 1–3…10.")),
    )
    scale_wording = forms.ChoiceField(
        required=False,
        initial="agree",
        choices=Question._meta.get_field("scale_wording").choices,
        label=_("Worded as"),
        help_text=escape(_("A 1–5 CES may ask how much effort it took: then 1–2 count as easy.")),
    )
    show_if_question = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10,
        label=_("Only if question #"),
        help_text=escape(_("Show this question only if that earlier one scored…")),
    )
    show_if_min = forms.IntegerField(
        required=False, min_value=LOWEST_SCORE, max_value=HIGHEST_SCORE, label=_("from")
    )
    show_if_max = forms.IntegerField(
        required=False, min_value=LOWEST_SCORE, max_value=HIGHEST_SCORE, label=_("to")
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = languages
        for lang in languages:
            self.fields[f"text_{lang}"] = forms.CharField(
                required=False,
                max_length=500,
                label=gettext("Question (%(language)s)") % {"language": language_name(lang)},
            )
            self.fields[f"choices_{lang}"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                label=gettext("Choices (%(language)s), one per line")
                % {"language": language_name(lang)},
            )
            for end, label in SCALE_END_LABELS.items():
                self.fields[f"label_{end}_{lang}"] = forms.CharField(
                    required=False,
                    max_length=100,
                    label=label % {"language": language_name(lang)},
                )

    @staticmethod
    def initial_for(question, languages: list[str]) -> dict[str, Any]:
        initial = {
            "type": question.type,
            "required": question.required,
            "scale_max": question.scale_max
            if question.type in SCALES and question.type != "nps"
            else None,
            "scale_wording": question.scale_wording or "agree",
        }
        for lang in languages:
            initial[f"text_{lang}"] = (question.text or {}).get(lang, "")
            initial[f"choices_{lang}"] = "\n".join(
                (c.get("text") or {}).get(lang, "") for c in question.choices or []
            )
            for end in SCALE_END_LABELS:
                initial[f"label_{end}_{lang}"] = (question.labels or {}).get(end, {}).get(lang, "")
        if question.show_if:
            initial["show_if_question"] = question.show_if["question"] + 1
            initial["show_if_min"] = question.show_if["min"]
            initial["show_if_max"] = question.show_if["max"]
        return initial

    def clean(self):
        data = super().clean()
        parts = [data.get(k) for k in ("show_if_question", "show_if_min", "show_if_max")]
        if any(p is not None for p in parts) and not all(p is not None for p in parts):
            self.add_error(
                "show_if_question", gettext("Give the question number and the score range.")
            )
        return data

    def question_in(self) -> QuestionIn:
        data = self.cleaned_data
        qtype = data["type"]
        choices: list[dict[str, str]] = []
        if qtype in CHOICE_TYPES:
            per_language = {
                lang: [
                    line.strip() for line in data[f"choices_{lang}"].splitlines() if line.strip()
                ]
                for lang in self.languages
            }
            count = max((len(lines) for lines in per_language.values()), default=0)
            for index in range(count):
                choice = {
                    lang: lines[index] for lang, lines in per_language.items() if index < len(lines)
                }
                choices.append(choice)
        scale = None
        if qtype in SCALES and data.get("scale_max"):
            scale = {"min": SCALES[qtype][0], "max": data["scale_max"]}
        show_if = None
        if data.get("show_if_question"):
            show_if = {
                "question": data["show_if_question"] - 1,
                "min": data["show_if_min"],
                "max": data["show_if_max"],
            }
        labels = {}
        if qtype in SCALES:  # the words under a scale's two ends, per language
            for end in SCALE_END_LABELS:
                words = {
                    lang: data[f"label_{end}_{lang}"].strip()
                    for lang in self.languages
                    if data.get(f"label_{end}_{lang}", "").strip()
                }
                if words:
                    labels[end] = words
        return QuestionIn(
            type=qtype,
            text={lang: data[f"text_{lang}"] for lang in self.languages if data[f"text_{lang}"]},
            labels=labels,
            required=data["required"],
            scale=scale,
            choices=choices,
            show_if=show_if,
            scale_wording=data.get("scale_wording") or "agree",
        )


class BaseQuestionFormSet(forms.BaseFormSet):
    def __init__(self, *args, languages: list[str], **kwargs):
        self.languages = languages
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "languages": self.languages}

    @property
    def empty_form(self):
        form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__"),
            empty_permitted=True,
            use_required_attribute=False,
            languages=self.languages,
            renderer=self.renderer,
        )
        self.add_fields(form, None)
        return form

    def kept_forms(self) -> list[QuestionForm]:
        """The questions to save, in the order people arranged them (blank extras skipped)."""
        return [form for form in self.ordered_forms if form.has_changed() or form.initial]


QuestionFormSet = forms.formset_factory(
    QuestionForm,
    formset=BaseQuestionFormSet,
    extra=0,  # the page's "Add question" adds as many as wanted
    can_order=True,
    can_delete=True,
    max_num=10,
    # A posted TOTAL_FORMS is read up to absolute_max (Django's default: max_num + 1000),
    # and each form costs milliseconds: a forged count made one POST take seconds.
    absolute_max=20,
)


def apply_service_errors(
    errors: dict[str, list[str]],
    settings_form: SurveySettingsForm,
    question_forms: list[QuestionForm],
    languages: list[str],
) -> None:
    """Put the service's field errors (`questions.2.text`, `targeting.urls.0.op`…) beside the
    form field they are about; anything unplaceable goes to the top of the settings form."""
    field_for = {
        "text": f"text_{languages[0]}",
        "choices": f"choices_{languages[0]}",
        "scale": "scale_max",
        "scale_wording": "scale_wording",
        "show_if": "show_if_question",
        "type": "type",
    }
    for key, messages in errors.items():
        parts = key.split(".")
        for message in messages:
            if parts[0] == "questions" and len(parts) >= 3 and parts[1].isdigit():
                index = int(parts[1])
                if index < len(question_forms):
                    question_forms[index].add_error(field_for.get(parts[2]), message)
                    continue
            if parts[0] == "targeting" and len(parts) >= 2:
                target = {"urls": "target_urls", "attributes": "target_attributes"}.get(
                    parts[1], "target_languages"
                )
                settings_form.add_error(target, message)
                continue
            if parts[0] == "theme":
                settings_form.add_error("theme_color", message)
                continue
            name = parts[0] if parts[0] in settings_form.fields else None
            settings_form.add_error(name, message)
