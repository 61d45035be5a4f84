"""factory-boy factories and small builders shared by the whole suite."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.test import TestCase

from feedback.answering.models import Response
from feedback.answering.services import AnswerIn, response_submit
from feedback.cases.models import RootCause
from metrics.rollups.models import Rollup
from surveys.contacts.models import Contact
from surveys.delivery.ledger import contact_resolve, display_claim
from surveys.delivery.models import DecisionCount
from surveys.design.models import Survey
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.journey.models import JourneyStage, Touchpoint
from surveys.tenancy.models import Membership, Project, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-123456")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    allowed_origins = ["http://shop.example"]
    languages = ["en", "zh"]
    default_language = "en"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    role = Role.ADMIN


class RootCauseFactory(factory.django.DjangoModelFactory):
    """An entry of a project's root-cause list (the same name in a project is the same entry)."""

    class Meta:
        model = RootCause
        django_get_or_create = ("project", "name")

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Cause {n}")


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JourneyStage

    project = factory.SubFactory(ProjectFactory)
    key = factory.Sequence(lambda n: f"stage-{n}")
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    project = factory.SubFactory(ProjectFactory)
    key = factory.Sequence(lambda n: f"touchpoint_{n}")
    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    stage = factory.SubFactory(StageFactory, project=factory.SelfAttribute("..project"))
    channel = "web"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    project = factory.SubFactory(ProjectFactory)
    user_id = factory.Sequence(lambda n: f"u{n}")
    email = factory.LazyAttribute(lambda c: f"{c.user_id}@customer.example")


NPS_WITH_WHY = [
    QuestionIn(
        type="nps",
        text={"en": "How likely are you to recommend us?", "zh": "您推荐我们的可能性有多大？"},
    ),
    QuestionIn(
        type="text",
        text={"en": "What could we do better?", "zh": "我们可以在哪些方面做得更好？"},
        required=False,
        show_if={"question": 0, "min": 0, "max": 6},
    ),
]


def published_survey(
    project: Project,
    *,
    touchpoints: Sequence[Touchpoint] = (),
    questions: Sequence[QuestionIn] | None = None,
    name: str = "NPS",
    allow_missing_translations: bool = False,
    **settings: Any,
) -> Survey:
    """A survey created and published through the real services (half-translated only when
    allowed: a test of the customers' fallbacks)."""
    survey = survey_create(
        project=project,
        name=name,
        questions=list(questions if questions is not None else NPS_WITH_WHY),
        touchpoint_keys=[t.key for t in touchpoints],
        **settings,
    )
    survey_publish(survey=survey, allow_missing_translations=allow_missing_translations)
    survey.refresh_from_db()
    return survey


def answered(
    survey: Survey,
    *values: Any,
    user_id: str | None = None,
    visitor_id: str | None = None,
    attributes: dict[str, Any] | None = None,
    finished: bool = True,
    processed: bool = True,
) -> Response:
    """Claim then answer, through the real services: the contact is resolved (a new anonymous
    visitor unless named), decide claims a display of `survey` at its first touchpoint, and
    `values` answer its questions in order (None leaves one unanswered). With `processed` the
    work the commit starts (rollup, steps) runs at once, as after a real commit; without, it
    is left to the caller (a test capturing the on-commit callbacks, or a broker)."""
    project = survey.project
    if user_id is None and visitor_id is None:
        visitor_id = f"v-{uuid.uuid4()}"
    contact = contact_resolve(
        project=project, visitor_id=visitor_id, user_id=user_id, attributes=attributes
    )
    claim = display_claim(
        project=project, contact=contact, touchpoint_key=survey.touchpoints.first().key
    )
    assert claim.display is not None, f"decide refused: {claim.verdict.reason}"
    questions = claim.display.version.snapshot["questions"]
    answers = [
        AnswerIn(question["id"], value)
        for question, value in zip(questions, values, strict=False)
        if value is not None
    ]
    with TestCase.captureOnCommitCallbacks(execute=True) if processed else nullcontext():
        return response_submit(
            project=project,
            display=claim.display,
            submission_id=uuid.uuid4(),
            answers=answers,
            finished=finished,
        ).response


def signed(project: Project, user_id: str) -> dict[str, str]:
    """A widget call's identity as the company's server proves it (surveys.contacts.identity)."""
    from surveys.contacts.identity import user_hash

    return {
        "user_id": user_id,
        "user_hash": user_hash(secret=project.identity_secret, user_id=user_id),
    }


def decisions_counted(project: Project | None = None, **filters: Any) -> Counter:
    """Decide's daily counters summed by reason (of one project, or of all)."""
    rows = DecisionCount.objects.filter(**filters)
    if project is not None:
        rows = rows.filter(project=project)
    return Counter(
        {r["reason"]: r["n"] for r in rows.values("reason").annotate(n=Sum("count")) if r["n"]}
    )


@contextmanager
def rolled_back_after(django_db_blocker) -> Iterator[None]:
    """For a module-scoped fixture: rows it builds (with `django_db_blocker.unblock()`) inside
    this block are shared by the module's tests, each of which runs in a savepoint within this
    transaction (its own writes undone), and are rolled back after the last test."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def rollup_cells(
    project, survey, touchpoint, metric, scale, hist, *, day, channel="web", plan=None
) -> None:
    """Histogram cells of one day written straight into the rollups (`hist`: score → count),
    for tests of what reads them (dashboards, digests): the metric's question is uid 1 for
    NPS, 2 otherwise."""
    attribute, value = ("plan", plan) if plan else ("", "")
    Rollup.objects.bulk_create(
        Rollup(
            project=project,
            survey=survey,
            question_uid=uuid.UUID(int=1 if metric == "nps" else 2),
            question_type=metric,
            scale_max=scale,
            touchpoint_key=touchpoint.key,
            stage_key=touchpoint.stage.key,
            channel=channel,
            breakdown_attribute=attribute,
            breakdown_value=value,
            day=day,
            score=score,
            count=count,
        )
        for score, count in hist.items()
    )
