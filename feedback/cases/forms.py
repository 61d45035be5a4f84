"""Staff forms of the closed loop: alert rules, case updates and the root-cause list."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import QuerySet
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from feedback.cases.alerting import RuleIn
from feedback.cases.models import (
    SLA_HOURS_MAX,
    AlertRule,
    CasePriority,
    ContactMethod,
    RootCause,
)
from feedback.topics.models import Topic
from surveys.design.models import QuestionType
from surveys.design.scales import HIGHEST_SCORE, LOWEST_SCORE, SCALES
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import Project, Team
from vocsite.ids import ModelIdChoiceField, ModelIdsChoiceField


class AlertRuleForm(forms.ModelForm):
    """Keywords as one per line; segment as `attribute=value` lines (plain for the CX team)."""

    keywords_text = forms.CharField(
        label=_("Keywords or phrases"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=escape(
            _(
                "One per line, e.g. refund / 退款. A case opens only if an open-text answer "
                "contains one of them. Leave empty to ignore comments."
            )
        ),
    )
    segment_text = forms.CharField(
        label=_("Only for customers with"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=escape(_("One attribute=value per line, e.g. plan=pro. Empty: every customer.")),
    )

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "is_active",
            "question_type",
            "score_min",
            "score_max",
            "touchpoints",
            "topics",
            "applies_to_feedback",
            "priority",
            "team",
            "assignment",
            "sla_hours",
            "notify_email",
            "notify_webhook",
        ]
        labels = {
            "name": _("Name"),
            "is_active": _("Active"),
            "touchpoints": _("Touchpoints"),
            "topics": _("Topics"),
            "priority": _("Priority"),
            "team": _("Team"),
            "assignment": _("Assignment"),
            "notify_email": _("Notify by e-mail"),
            "notify_webhook": _("Notify webhooks"),
            "question_type": _("Question type"),
            "score_min": _("Lowest score"),
            "score_max": _("Highest score"),
            "sla_hours": _("SLA (hours to resolve)"),
            "applies_to_feedback": _("Also unhappy Feedback-tab messages"),
        }
        help_texts = {
            "question_type": escape(
                _("e.g. NPS with scores 0–6 catches detractors. Empty: any score.")
            ),
            "touchpoints": escape(_("Only answers from these touchpoints. None selected: all.")),
            "topics": escape(
                _("Only comments tagged with one of these topics. None selected: any.")
            ),
            "assignment": escape(_("Who gets the case inside the team.")),
            "applies_to_feedback": escape(_("Also open cases for negative Feedback-tab messages.")),
            "sla_hours": escape(_("At most a year.")),
            "priority": escape(
                _(
                    "The case's priority. When several rules match one answer, the "
                    "highest-priority rule opens its one case (then the oldest rule)."
                )
            ),
        }
        field_classes = {"touchpoints": ModelIdsChoiceField, "topics": ModelIdsChoiceField}
        widgets = {
            "touchpoints": forms.SelectMultiple(attrs={"size": 5}),
            "topics": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["touchpoints"].queryset = Touchpoint.objects.filter(project=project)
        self.fields["topics"].queryset = Topic.objects.filter(project=project)
        self.fields["team"].queryset = Team.objects.filter(project=project)
        self.fields["question_type"].choices = [("", _("Any"))] + [
            (value, label) for value, label in QuestionType.choices if value in SCALES
        ]
        # Scores lie within the widest of the scales; a year is the longest SLA (feedback.models).
        for name in ("score_min", "score_max"):
            self.fields[name].validators.extend(
                [MinValueValidator(LOWEST_SCORE), MaxValueValidator(HIGHEST_SCORE)]
            )
            self.fields[name].widget.attrs.update(min=LOWEST_SCORE, max=HIGHEST_SCORE)
        self.fields["sla_hours"].widget.attrs.update(min=0, max=SLA_HOURS_MAX)
        if self.instance.pk:
            self.fields["keywords_text"].initial = "\n".join(self.instance.keywords or [])
            self.fields["segment_text"].initial = "\n".join(
                f"{k}={v}" for k, v in (self.instance.segment or {}).items()
            )

    def clean_keywords_text(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["keywords_text"].splitlines()]
        keywords = [line for line in lines if line]
        if len(keywords) > 50:
            raise forms.ValidationError(_("At most 50 keywords."))
        if any(len(k) > 100 for k in keywords):
            raise forms.ValidationError(_("A keyword is at most 100 characters."))
        return keywords

    def clean_segment_text(self) -> dict[str, str]:
        segment = {}
        for line in self.cleaned_data["segment_text"].splitlines():
            if not line.strip():
                continue
            attribute, sep, value = line.partition("=")
            if not sep or not attribute.strip() or not value.strip():
                raise forms.ValidationError(
                    _("Write attribute=value, not “%(line)s”.") % {"line": line.strip()}
                )
            segment[attribute.strip()] = value.strip()
        return segment

    def clean(self):
        data = super().clean()
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and high < low:
            self.add_error("score_max", _("Must not be below the lowest score."))
        has_score = data.get("question_type") or low is not None or high is not None
        if not (has_score or data.get("keywords_text") or data.get("topics")):
            raise forms.ValidationError(
                _(
                    "Give the rule a score range, keywords or topics: a rule without any would "
                    "open a case for every answer."
                )
            )
        return data

    def plain_rule(self) -> RuleIn:
        """The rule as the matcher reads it, from the valid form (saved or not): what the
        preview runs over the last 30 days."""
        data = self.cleaned_data
        return RuleIn(
            rule_id=self.instance.pk or 0,
            question_type=data.get("question_type") or "",
            score_min=data.get("score_min"),
            score_max=data.get("score_max"),
            keywords=tuple(data.get("keywords_text") or ()),
            topic_ids=frozenset(t.pk for t in data.get("topics") or ()),
            touchpoint_ids=frozenset(t.pk for t in data.get("touchpoints") or ()),
            segment=dict(data.get("segment_text") or {}),
            applies_to_feedback=bool(data.get("applies_to_feedback")),
        )

    def save(self, commit: bool = True) -> AlertRule:
        rule = super().save(commit=False)
        rule.project = self.project
        rule.keywords = self.cleaned_data["keywords_text"]
        rule.segment = self.cleaned_data["segment_text"]
        if commit:
            rule.save()
            self.save_m2m()
        return rule


class CaseUpdateForm(forms.Form):
    """Status change with what it needs (contact method, root cause), plus a note."""

    status = forms.ChoiceField(required=False, label=_("Status"))
    contact_method = forms.ChoiceField(
        required=False, choices=[("", "—"), *list(ContactMethod.choices)], label=_("Contacted by")
    )
    root_cause = ModelIdChoiceField(
        required=False,
        queryset=RootCause.objects.none(),
        label=_("Root cause"),
        empty_label="—",
        help_text=escape(_("From the project's list, which admins keep on the Root causes page.")),
    )
    resolution_note = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Resolution note"),
    )
    priority = forms.ChoiceField(
        required=False, choices=[("", "—"), *list(CasePriority.choices)], label=_("Priority")
    )
    note = forms.CharField(
        required=False,
        max_length=5000,
        label=_("Note"),
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("What happened, what was agreed…")}
        ),
    )

    def __init__(
        self,
        *args,
        next_statuses: list[tuple[str, str]],
        root_causes: QuerySet[RootCause],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Keep status")), *next_statuses]
        self.fields["root_cause"].queryset = root_causes


class RootCauseForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Root cause"))
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label=_("Offered on cases"),
        help_text=escape(_("Off: retired.")),
    )
