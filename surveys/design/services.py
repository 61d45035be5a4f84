"""Writes for survey design: create, update, publish (immutable versions) and status changes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext, ngettext

from surveys.design.models import (
    DisplayOption,
    Question,
    QuestionType,
    Survey,
    SurveyChannel,
    SurveyStatus,
    SurveyVersion,
)
from surveys.design.scales import (
    CHOICE_TYPES,
    EFFORT_WORDED_SCALES,
    SCALE_WORDINGS,
    SCALES,
    scale_bounds,
)
from surveys.design.survey_settings import (
    SETTING_BY_NAME,
    SURVEY_SETTINGS,
    bound_errors,
    settings_snapshot,
)
from surveys.design.targeting import validate_targeting
from surveys.design.translations import translation_gaps
from surveys.journey.models import Touchpoint
from surveys.tenancy.languages import language_name
from surveys.tenancy.models import Project
from surveys.tenancy.services import audit_record
from surveys.tenancy.theme import theme_errors
from vocsite import caches
from vocsite.errors import ApplicationError

MAX_QUESTIONS = 10


@dataclass
class QuestionIn:
    """A question as the designer or the API describes it (positions are 0-based)."""

    type: str
    text: dict[str, str]
    required: bool = True
    scale: dict[str, int] | None = None
    choices: list[dict[str, str]] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)
    style: str = ""
    show_if: dict[str, int] | None = None
    scale_wording: str = "agree"

    @property
    def scale_max(self) -> int | None:
        if self.type not in SCALES:
            return None
        return scale_bounds(self.type, self.scale)[1]


def _question_errors(index: int, q: QuestionIn, previous: list[QuestionIn]) -> dict[str, list]:
    errors: dict[str, list[str]] = {}
    prefix = f"questions.{index}"
    if q.type not in QuestionType.values:
        return {f"{prefix}.type": [f"Unknown question type {q.type!r}."]}
    if not q.text or not any(isinstance(v, str) and v.strip() for v in q.text.values()):
        errors[f"{prefix}.text"] = [gettext("Give the question's text in at least one language.")]
    elif any(not isinstance(v, str) or len(v) > 500 for v in q.text.values()):
        errors[f"{prefix}.text"] = [gettext("Each text is a string of at most 500 characters.")]
    if q.type in SCALES and q.scale is not None:
        low, _default, maxima = SCALES[q.type]
        if q.scale.get("min", low) != low or q.scale.get("max") not in maxima:
            allowed = ", ".join(f"{low}–{m}" for m in maxima)
            errors[f"{prefix}.scale"] = [
                gettext("A %(type)s scale is one of %(allowed)s.")
                % {"type": q.type, "allowed": allowed}
            ]
    elif q.scale is not None and q.type not in SCALES:
        errors[f"{prefix}.scale"] = [
            gettext("A %(type)s question has no scale.") % {"type": q.type}
        ]
    if q.scale_wording not in SCALE_WORDINGS:
        errors[f"{prefix}.scale_wording"] = [
            gettext("One of %(names)s.") % {"names": ", ".join(SCALE_WORDINGS)}
        ]
    elif q.scale_wording == "effort" and q.scale_max not in EFFORT_WORDED_SCALES.get(q.type, ()):
        errors[f"{prefix}.scale_wording"] = [
            gettext("Only a CES question on 1–5 can ask how much effort it took (1 = very low).")
        ]
    if q.type in CHOICE_TYPES:
        if len(q.choices) < 2:
            errors[f"{prefix}.choices"] = [gettext("Give at least two choices.")]
        elif any(
            not isinstance(c, dict) or not c or not all(isinstance(v, str) for v in c.values())
            for c in q.choices
        ):
            errors[f"{prefix}.choices"] = [gettext('Each choice is {"<language>": "text"}.')]
    elif q.choices:
        errors[f"{prefix}.choices"] = [
            gettext("A %(type)s question has no choices.") % {"type": q.type}
        ]
    if q.show_if is not None:
        target = q.show_if.get("question")
        if not isinstance(target, int) or not 0 <= target < len(previous):
            errors[f"{prefix}.show_if"] = [
                gettext("show_if.question must be an earlier question's position.")
            ]
        elif previous[target].type not in SCALES:
            errors[f"{prefix}.show_if"] = [gettext("show_if must refer to a scored question.")]
        else:
            low, high = q.show_if.get("min"), q.show_if.get("max")
            if not isinstance(low, int) or not isinstance(high, int) or low > high:
                errors[f"{prefix}.show_if"] = [gettext("show_if needs integer min ≤ max.")]
    return errors


def question_errors(questions: Sequence[QuestionIn]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not questions:
        errors["questions"] = [gettext("A survey needs at least one question.")]
    if len(questions) > MAX_QUESTIONS:
        errors["questions"] = [
            ngettext(
                "At most %(limit)s question: keep surveys short.",
                "At most %(limit)s questions: keep surveys short.",
                MAX_QUESTIONS,
            )
            % {"limit": MAX_QUESTIONS}
        ]
    for index, question in enumerate(questions):
        errors.update(_question_errors(index, question, list(questions[:index])))
    return errors


def _question_row(survey: Survey, position: int, q: QuestionIn) -> Question:
    scale_min, scale_max = scale_bounds(q.type, q.scale) if q.type in SCALES else (None, None)
    choices = [{"id": f"c{i + 1}", "text": dict(c)} for i, c in enumerate(q.choices)]
    return Question(
        survey=survey,
        position=position,
        type=q.type,
        text=dict(q.text),
        required=q.required,
        scale_min=scale_min,
        scale_max=scale_max,
        choices=choices,
        labels=dict(q.labels),
        style=q.style,
        show_if=dict(q.show_if) if q.show_if else None,
        scale_wording=q.scale_wording,
    )


def _settings_errors(values: Mapping[str, Any], project: Project) -> dict[str, list[str]]:
    errors = bound_errors(values)
    option = values.get("display_option")
    if option is not None and option not in DisplayOption.values:
        errors["display_option"] = [
            gettext("One of %(names)s.") % {"names": ", ".join(DisplayOption.values)}
        ]
    if option == DisplayOption.LIMITED and not values.get("display_limit"):
        errors["display_limit"] = [gettext("A 'limited' survey needs display_limit ≥ 1.")]
    if values.get("recurrence_days") is not None and option == DisplayOption.ALWAYS:
        errors["recurrence_days"] = [
            gettext(
                "A survey shown always is asked again anyway; asking again every so many days "
                "needs 'once', 'until responded' or 'limited'."
            )
        ]
    recontact = values.get("recontact_days")
    if (
        recontact is not None
        and not values.get("bypass_global_cooldown")
        and recontact < project.recontact_days
    ):
        errors["recontact_days"] = [
            gettext(
                "A survey may wait longer than the project's %(days)s-day cooldown, "
                "never shorter (unless it bypasses the global cooldown)."
            )
            % {"days": project.recontact_days}
        ]
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = [gettext("The end must come after the start.")]
    channels = values.get("channels")
    if channels is not None and (
        not channels or any(c not in SurveyChannel.values for c in channels)
    ):
        errors["channels"] = [
            gettext("One or more of %(names)s.") % {"names": ", ".join(SurveyChannel.values)}
        ]
    if "theme" in values:
        errors.update(theme_errors(values["theme"]))
    if values.get("targeting"):
        errors.update(
            {f"targeting.{k}": v for k, v in validate_targeting(values["targeting"]).items()}
        )
    return errors


def _touchpoints_for(project: Project, keys: Sequence[str]) -> list[Touchpoint]:
    found = {t.key: t for t in Touchpoint.objects.filter(project=project, key__in=list(keys))}
    missing = [key for key in keys if key not in found]
    if missing:
        raise ApplicationError(
            "invalid",
            gettext("Unknown touchpoint."),
            {
                "touchpoints": [
                    gettext("Unknown touchpoint %(key)r.") % {"key": key} for key in missing
                ]
            },
        )
    return [found[key] for key in keys]


def _survey_snapshot_for_audit(survey: Survey) -> dict[str, Any]:
    data = settings_snapshot({name: getattr(survey, name) for name in SURVEY_SETTINGS})
    data["status"] = survey.status
    return data


@transaction.atomic
def survey_create(
    *,
    project: Project,
    name: str,
    questions: Sequence[QuestionIn],
    touchpoint_keys: Sequence[str] = (),
    actor: AbstractBaseUser | None = None,
    **settings_values: Any,
) -> Survey:
    unknown = set(settings_values) - set(SURVEY_SETTINGS)
    if unknown:
        raise ApplicationError(
            "invalid",
            gettext("Unknown survey settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    errors = _settings_errors(settings_values, project) | question_errors(questions)
    if not name or not name.strip():
        errors["name"] = [gettext("Give the survey a name.")]
    if errors:  # every problem at once, so a person fixes them in one go
        raise ApplicationError("invalid", gettext("The survey is not valid."), errors)
    touchpoints = _touchpoints_for(project, touchpoint_keys)
    survey = Survey(project=project, name=name.strip(), created_by=_user_or_none(actor))
    for key, value in settings_values.items():
        if value is not None or SETTING_BY_NAME[key].nullable:
            setattr(survey, key, value)
    survey.full_clean(exclude=["current_version"])
    survey.save()
    survey.touchpoints.set(touchpoints)
    Question.objects.bulk_create([_question_row(survey, i, q) for i, q in enumerate(questions)])
    audit_record(
        project=project,
        action="survey.created",
        obj=survey,
        actor=actor,
        after=_survey_snapshot_for_audit(survey),
    )
    return survey


@transaction.atomic
def survey_update(
    *,
    survey: Survey,
    questions: Sequence[QuestionIn] | None = None,
    touchpoint_keys: Sequence[str] | None = None,
    actor: AbstractBaseUser | None = None,
    **settings_values: Any,
) -> Survey:
    """Edit the draft. A live survey keeps serving its published version until the next
    publish, so answers in flight are never touched."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    unknown = set(settings_values) - set(SURVEY_SETTINGS)
    if unknown:
        raise ApplicationError(
            "invalid",
            gettext("Unknown survey settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
        )
    merged = {name: getattr(survey, name) for name in SURVEY_SETTINGS} | settings_values
    errors = _settings_errors(merged, survey.project)
    if questions is not None:
        errors |= question_errors(questions)
    if errors:
        raise ApplicationError("invalid", gettext("The survey is not valid."), errors)
    before = _survey_snapshot_for_audit(survey)
    for key, value in settings_values.items():
        setattr(survey, key, value)
    if questions is not None:
        Question.objects.filter(survey=survey, version__isnull=True).delete()
        Question.objects.bulk_create([_question_row(survey, i, q) for i, q in enumerate(questions)])
    if touchpoint_keys is not None:
        survey.touchpoints.set(_touchpoints_for(survey.project, touchpoint_keys))
    survey.has_unpublished_changes = True
    survey.full_clean(exclude=["current_version"])
    survey.save()
    caches.touchpoint_surveys_forget(project_id=survey.project_id)
    audit_record(
        project=survey.project,
        action="survey.updated",
        obj=survey,
        actor=actor,
        before=before,
        after=_survey_snapshot_for_audit(survey),
    )
    return survey


def _user_or_none(user: AbstractBaseUser | None) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None


def _snapshot_question(q: Question, id_by_position: Mapping[int, int]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": q.pk,
        "uid": str(q.uid),
        "position": q.position,
        "type": q.type,
        "text": q.text,
        "required": q.required,
    }
    if q.scale_max is not None:
        data["scale"] = {"min": q.scale_min, "max": q.scale_max}
    if q.choices:
        data["choices"] = q.choices
    if q.labels:
        data["labels"] = q.labels
    if q.style:
        data["style"] = q.style
    if q.show_if:
        data["show_if"] = {
            "question_id": id_by_position[q.show_if["question"]],
            "min": q.show_if["min"],
            "max": q.show_if["max"],
        }
    return data


@transaction.atomic
def survey_publish(
    *,
    survey: Survey,
    actor: AbstractBaseUser | None = None,
    allow_missing_translations: bool = False,
) -> SurveyVersion:
    """Freeze the draft questions into a new immutable version and make the survey active.

    A half-translated draft is refused (`missing_translation`); no surface lets people skip
    that, `allow_missing_translations` is for versions made on purpose with fallbacks in them
    (the payload's fallbacks still serve versions published before the rule)."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.status == SurveyStatus.CLOSED:
        raise ApplicationError(
            "invalid_state", gettext("A closed survey cannot be published again.")
        )
    drafts = list(Question.objects.filter(survey=survey, version__isnull=True).order_by("position"))
    if not drafts:
        raise ApplicationError(
            "invalid", gettext("A survey needs at least one question to publish.")
        )
    if not allow_missing_translations:
        _refuse_translation_gaps(survey, drafts)
    previous = (
        Question.objects.filter(version=survey.current_version).order_by("position")
        if survey.current_version_id
        else []
    )
    uid_by_position = {q.position: q.uid for q in previous}
    number = (survey.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = SurveyVersion.objects.create(
        survey=survey, number=number, snapshot={}, published_by=_user_or_none(actor)
    )
    # Draft rows keep their uid across publishes so a question's metrics continue; a question
    # whose draft is new but sits where an old one sat of the same type keeps that uid too.
    frozen = []
    for q in drafts:
        old_uid = uid_by_position.get(q.position)
        same_type = any(p.position == q.position and p.type == q.type for p in previous)
        frozen.append(
            Question(
                survey=survey,
                version=version,
                uid=old_uid if old_uid and same_type else q.uid,
                position=q.position,
                type=q.type,
                text=q.text,
                required=q.required,
                scale_min=q.scale_min,
                scale_max=q.scale_max,
                choices=q.choices,
                labels=q.labels,
                style=q.style,
                show_if=q.show_if,
                scale_wording=q.scale_wording,
            )
        )
    frozen = Question.objects.bulk_create(frozen)
    if any(q.pk is None for q in frozen):  # SQLite before 3.35 returns no ids
        frozen = list(Question.objects.filter(version=version).order_by("position"))
    id_by_position = {q.position: q.pk for q in frozen}
    version.snapshot = {
        "name": survey.name,
        "languages": survey.project.languages,
        "default_language": survey.project.default_language,
        "questions": [_snapshot_question(q, id_by_position) for q in frozen],
        "thank_you": survey.thank_you,
    }
    version.save(update_fields=["snapshot"])
    status_before = survey.status
    survey.current_version = version
    survey.status = SurveyStatus.ACTIVE
    survey.has_unpublished_changes = False
    survey.save(
        update_fields=["current_version", "status", "has_unpublished_changes", "updated_at"]
    )
    caches.touchpoint_surveys_forget(project_id=survey.project_id)
    audit_record(
        project=survey.project,
        action="survey.published",
        obj=survey,
        actor=actor,
        before={"status": status_before},
        after={"status": survey.status, "version": number},
    )
    return version


_TRANSITIONS = {
    "pause": ({SurveyStatus.ACTIVE}, SurveyStatus.PAUSED),
    "resume": ({SurveyStatus.PAUSED}, SurveyStatus.ACTIVE),
    "close": ({SurveyStatus.ACTIVE, SurveyStatus.PAUSED, SurveyStatus.DRAFT}, SurveyStatus.CLOSED),
}


@transaction.atomic
def survey_set_status(
    *, survey: Survey, action: str, actor: AbstractBaseUser | None = None
) -> Survey:
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if action not in _TRANSITIONS:
        raise ApplicationError(
            "invalid", gettext("Unknown action %(action)r.") % {"action": action}
        )
    allowed_from, target = _TRANSITIONS[action]
    if survey.status not in allowed_from:
        raise ApplicationError(
            "invalid_state",
            gettext("A %(status)s survey cannot be %(target)s.")
            % {"status": survey.status, "target": target},
            status_code=409,
        )
    before = survey.status
    survey.status = target
    survey.save(update_fields=["status", "updated_at"])
    caches.touchpoint_surveys_forget(project_id=survey.project_id)
    audit_record(
        project=survey.project,
        action=f"survey.{action}",
        obj=survey,
        actor=actor,
        before={"status": before},
        after={"status": target},
    )
    return survey


def _refuse_translation_gaps(survey: Survey, drafts: Sequence[Question]) -> None:
    """Publishing a half-translated survey would show customers a text in another language
    than the rest: refuse, naming every gap."""
    gaps = translation_gaps(
        {
            "questions": [{"text": q.text, "choices": q.choices} for q in drafts],
            "thank_you": survey.thank_you,
        },
        project_languages=survey.project.languages or [survey.project.default_language],
        target_languages=(survey.targeting or {}).get("languages") or [],
    )
    if not gaps:
        return
    fields: dict[str, list[str]] = {}
    for gap in gaps:
        fields.setdefault(gap.field, []).append(
            gettext("Missing in %(language)s.") % {"language": language_name(gap.language)}
        )
    raise ApplicationError(
        "missing_translation",
        gettext("Translate before publishing: %(gaps)s.")
        % {"gaps": "; ".join(gap.describe() for gap in gaps)},
        fields,
    )


def draft_snapshot(survey: Survey) -> dict[str, Any]:
    """The draft as a version snapshot would hold it (question ids are the draft rows' ids),
    for previews: the same shape the widget receives once the draft is published."""
    drafts = list(Question.objects.filter(survey=survey, version__isnull=True).order_by("position"))
    id_by_position = {q.position: q.pk for q in drafts}
    return {
        "name": survey.name,
        "questions": [_snapshot_question(q, id_by_position) for q in drafts],
        "thank_you": survey.thank_you,
    }


def snapshot_from_inputs(
    questions: Sequence[QuestionIn], thank_you: Mapping[str, str]
) -> dict[str, Any]:
    """A snapshot of questions not saved yet (the designer's live preview): positions stand in
    for ids, everything else as publishing would freeze it."""
    out = []
    for position, q in enumerate(questions):
        row = _question_row(Survey(), position, q)
        row.pk = position + 1
        out.append(_snapshot_question(row, {i: i + 1 for i in range(len(questions))}))
    return {"questions": out, "thank_you": dict(thank_you)}
