"""The demo project behind `make run` and `manage.py seed_demo`.

A shop's whole journey (six stages, ten touchpoints), four published surveys, staff users of
every role, a support team, 90 days of history (contacts, displays, responses whose score
distributions differ by touchpoint and channel, open-text comments in English and Chinese,
operational events, throttle decisions) and a few open cases. History is bulk-inserted for
speed, then rolled up by the same code the pipeline uses, so the numbers are real.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from feedback.answering.models import Answer, Response
from feedback.answering.services import contacts_backfill_last_nps
from feedback.cases.models import AlertRule, Case, CaseEvent, ContactMethod
from feedback.cases.services import cases_open_for_response, cases_recover_for_response
from feedback.topics.models import Topic
from feedback.topics.services import project_rules, tag_answers
from metrics.rollups.services import rollups_rebuild
from surveys.contacts.models import Contact, OperationalEvent, VisitorId
from surveys.delivery.events import contacts_lifecycle_rebuild
from surveys.delivery.models import DecisionCount, DecisionReason, Display, DisplayStatus
from surveys.design.models import Question, Survey, SurveyChannel
from surveys.design.scales import NPS_DETRACTOR_AT_MOST, default_scale, nps_category
from surveys.design.services import QuestionIn, survey_create, survey_publish
from surveys.design.show_if import shown
from surveys.journey.channels import response_channel
from surveys.journey.models import Touchpoint
from surveys.journey.services import stage_create, touchpoint_create
from surveys.tenancy.models import Membership, Project, Role, Team, TeamMembership
from surveys.tenancy.project_settings import project_update
from surveys.tenancy.services import project_create
from surveys.tenancy.timezones import local_day, project_zone
from vocsite import caches
from vocsite.errors import ApplicationError

DEMO_PASSWORD = "vocsite-demo"  # noqa: S105 - printed on start; the demo is local only
DEMO_USERS = (
    ("admin", Role.ADMIN),
    ("designer", Role.DESIGNER),
    ("agent", Role.AGENT),
    ("viewer", Role.VIEWER),
)


def demo_origins() -> list[str]:
    """The demo shop is served by vocsite itself: its origin is the server's own
    (`VOCSITE_BASE_URL`, which `make run` sets from its PORT), as 127.0.0.1 and as localhost."""
    base = urlsplit(settings.VOCSITE_BASE_URL)
    port = f":{base.port}" if base.port else ""
    origins = [f"{base.scheme}://{base.hostname}{port}"]
    for host in ("127.0.0.1", "localhost"):
        origins.append(f"{base.scheme}://{host}{port}")
    return list(dict.fromkeys(origins))


def _ensure_origins(project: Project) -> None:
    """A demo seeded while the server ran on another port keeps working on this one."""
    missing = [o for o in demo_origins() if o not in (project.allowed_origins or [])]
    if missing:
        project_update(
            project=project, allowed_origins=[*(project.allowed_origins or []), *missing]
        )


STAGES = (
    ("discover", "Discover"),
    ("purchase", "Purchase"),
    ("onboard", "Onboard"),
    ("use", "Use"),
    ("support", "Support"),
    ("renew", "Renew / leave"),
)
# key, name, stage, channel, NPS-ish mood (mean of a 0–10 score)
TOUCHPOINTS = (
    ("landing_visited", "Visited the landing page", "discover", "web", 7.6),
    ("product_viewed", "Viewed a product", "discover", "web", 7.9),
    ("checkout_completed", "Completed checkout", "purchase", "web", 8.1),
    ("order_delivered", "Order delivered", "purchase", "email", 8.6),
    ("onboarding_completed", "Finished onboarding", "onboard", "app", 8.8),
    ("feature_used", "Used a key feature", "use", "app", 7.2),
    ("support_ticket_closed", "Support ticket closed", "support", "email", 6.4),
    ("chat_ended", "Support chat ended", "support", "chat", 7.0),
    ("subscription_renewed", "Subscription renewed", "renew", "email", 8.9),
    ("subscription_cancelled", "Subscription cancelled", "renew", "web", 4.2),
)
# How the channel a survey was answered on shifts scores (widget in the app vs e-mail link).
CHANNEL_SHIFT = {"widget": 0.25, "email": -0.55}
PLAN_SHIFT = {"free": -0.6, "pro": 0.3, "enterprise": 0.7}

DETRACTOR_COMMENTS = (
    "Delivery took two weeks and nobody told me why.",
    "The app keeps logging me out, very frustrating.",
    "Refund still not processed after a month.",
    "Too expensive for what you get.",
    "Checkout failed twice with my credit card.",
    "Support never answered my email.",
    "The new update made everything slower.",
    "退款到现在还没到账，太失望了。",
    "客服回复太慢了，等了三天。",
    "配送速度太慢，包装也破了。",
    "价格太贵了，性价比不高。",
    "应用经常闪退，体验很差。",
)
PROMOTER_COMMENTS = (
    "Fast delivery and great quality, thank you!",
    "Support solved my problem in minutes.",
    "Love how easy the app is to use.",
    "Great prices and a smooth checkout.",
    "物流很快，质量很好！",
    "客服非常耐心，问题很快解决了。",
    "界面简洁，用起来很方便。",
)
PASSIVE_COMMENTS = (
    "It's fine, but the search could be better.",
    "Good overall, shipping could be faster.",
    "还不错，就是有时候加载有点慢。",
)


@dataclass(frozen=True)
class DemoInfo:
    project: Project
    created: bool
    responses: int


def _nps_score(rng: random.Random, mood: float) -> int:
    return max(0, min(10, round(rng.gauss(mood, 2.3))))


def _scale_score(rng: random.Random, mood: float, scale_max: int) -> int:
    """Map a 0–10 mood onto a 1..scale_max scale with noise."""
    value = 1 + (mood / 10) * (scale_max - 1) + rng.gauss(0, 1.0)
    return max(1, min(scale_max, round(value)))


def _comment(rng: random.Random, score: int) -> str:
    comments = {
        "detractor": DETRACTOR_COMMENTS,
        "passive": PASSIVE_COMMENTS,
        "promoter": PROMOTER_COMMENTS,
    }
    return rng.choice(comments[nps_category(score)])


def _ensure_users(project: Project) -> None:
    User = get_user_model()
    for username, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@vocsite.local"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = role == Role.ADMIN
            user.is_superuser = role == Role.ADMIN
            user.save()
        Membership.objects.get_or_create(user=user, project=project, defaults={"role": role})


def _ensure_team(project: Project) -> None:

    User = get_user_model()
    team, _ = Team.objects.get_or_create(
        project=project,
        name="Customer care",
        defaults={"lead": User.objects.get(username="admin"), "email": "care@vocsite.local"},
    )
    for username in ("agent", "admin"):
        TeamMembership.objects.get_or_create(team=team, user=User.objects.get(username=username))
    AlertRule.objects.filter(project=project, team__isnull=True).update(
        team=team, assignment="none"
    )
    caches.alert_rules_forget(project_id=project.pk)


def _build_surveys(project: Project) -> dict[str, Survey]:
    tp = "touchpoint_keys"
    nps = survey_create(
        project=project,
        name="Relationship NPS",
        questions=[
            QuestionIn(
                type="nps",
                text={
                    "en": "How likely are you to recommend Demo Shop to a friend?",
                    "zh": "您向朋友推荐 Demo Shop 的可能性有多大？",
                },
                labels={
                    "min": {"en": "Not likely", "zh": "不太可能"},
                    "max": {"en": "Very likely", "zh": "非常可能"},
                },
            ),
            QuestionIn(
                type="text",
                text={"en": "What could we do better?", "zh": "我们可以在哪些方面做得更好？"},
                required=False,
                show_if={"question": 0, "min": 0, "max": 6},
            ),
            QuestionIn(
                type="text",
                text={"en": "What do you like most?", "zh": "您最喜欢什么？"},
                required=False,
                show_if={"question": 0, "min": 7, "max": 10},
            ),
        ],
        **{
            tp: [
                "landing_visited",
                "product_viewed",
                "order_delivered",
                "onboarding_completed",
                "feature_used",
                "subscription_renewed",
            ]
        },
        delay_seconds=2,
        channels=["widget", "email"],
        thank_you={
            "en": "Thank you! Your feedback helps us improve.",
            "zh": "谢谢！您的反馈帮助我们改进。",
        },
    )
    csat = survey_create(
        project=project,
        name="Post-support CSAT",
        questions=[
            QuestionIn(
                type="csat",
                text={
                    "en": "How satisfied are you with the help you got?",
                    "zh": "您对获得的帮助满意吗？",
                },
                scale=default_scale("csat"),
            ),
            QuestionIn(
                type="text",
                text={"en": "What went wrong?", "zh": "哪里出了问题？"},
                required=False,
                show_if={"question": 0, "min": 1, "max": 3},
            ),
        ],
        **{tp: ["support_ticket_closed", "chat_ended"]},
        bypass_global_cooldown=True,
        recontact_days=1,
        display_option="always",
        priority=10,
        channels=["widget", "email"],
    )
    ces = survey_create(
        project=project,
        name="Checkout effort (CES)",
        questions=[
            QuestionIn(
                type="ces",
                text={
                    "en": "Demo Shop made checking out easy.",
                    "zh": "Demo Shop 让结账变得很轻松。",
                },
                scale=default_scale("ces"),
                labels={
                    "min": {"en": "Strongly disagree", "zh": "非常不同意"},
                    "max": {"en": "Strongly agree", "zh": "非常同意"},
                },
            ),
            QuestionIn(
                type="multi_choice",
                text={"en": "What slowed you down?", "zh": "是什么让您慢下来了？"},
                required=False,
                choices=[
                    {"en": "Payment", "zh": "支付"},
                    {"en": "Shipping options", "zh": "配送选项"},
                    {"en": "Creating an account", "zh": "创建账户"},
                    {"en": "Coupon code", "zh": "优惠码"},
                ],
                show_if={"question": 0, "min": 1, "max": 4},
            ),
        ],
        **{tp: ["checkout_completed"]},
        priority=5,
        delay_seconds=1,
    )
    exit_survey = survey_create(
        project=project,
        name="Cancellation exit survey",
        questions=[
            QuestionIn(
                type="single_choice",
                text={"en": "Why are you leaving?", "zh": "您为什么要离开？"},
                choices=[
                    {"en": "Too expensive", "zh": "太贵了"},
                    {"en": "Missing features", "zh": "缺少功能"},
                    {"en": "Bad experience with support", "zh": "客服体验差"},
                    {"en": "Switching to a competitor", "zh": "转向竞争对手"},
                    {"en": "Other", "zh": "其他"},
                ],
            ),
            QuestionIn(
                type="nps",
                text={
                    "en": "How likely are you to recommend us anyway?",
                    "zh": "您仍然推荐我们的可能性有多大？",
                },
            ),
        ],
        **{tp: ["subscription_cancelled"]},
        bypass_global_cooldown=True,
        recontact_days=7,
        display_option="once",
        priority=20,
    )
    surveys = {"nps": nps, "csat": csat, "ces": ces, "exit": exit_survey}
    for survey in surveys.values():
        survey_publish(survey=survey)
    return {key: Survey.objects.get(pk=s.pk) for key, s in surveys.items()}


def _history(
    project: Project, surveys: dict[str, Survey], rng: random.Random, now: datetime
) -> int:
    """Bulk-insert 90 days of contacts, displays, responses, answers, decisions and O-data."""

    touchpoints = {
        t.key: t for t in Touchpoint.objects.filter(project=project).select_related("stage")
    }
    mood = {key: m for key, _n, _s, _c, m in TOUCHPOINTS}
    plans = ("free", "pro", "enterprise")
    regions = ("cn", "us", "eu")
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                project=project,
                user_id=f"cust-{i:05d}",
                email=f"customer{i}@example.com",
                attributes={
                    "plan": rng.choices(plans, weights=(5, 3, 1))[0],
                    "region": rng.choice(regions),
                },
                language="zh" if rng.random() < 0.35 else "en",
                created_at=now - timedelta(days=rng.randint(90, 400)),
            )
            for i in range(2400)
        ]
    )
    contacts = list(Contact.objects.filter(project=project).order_by("pk"))
    VisitorId.objects.bulk_create(
        [VisitorId(project=project, visitor_id=f"demo-visitor-{c.pk}", contact=c) for c in contacts]
    )
    questions = {
        s.pk: list(Question.objects.filter(version=s.current_version).order_by("position"))
        for s in surveys.values()
    }
    plan_of = {c.pk: c.attributes["plan"] for c in contacts}
    jobs = []  # (survey, touchpoint key)
    for key in (
        "landing_visited",
        "product_viewed",
        "order_delivered",
        "onboarding_completed",
        "feature_used",
        "subscription_renewed",
    ):
        jobs += [(surveys["nps"], key)] * {"feature_used": 1200, "product_viewed": 950}.get(
            key, 600
        )
    jobs += [(surveys["csat"], "support_ticket_closed")] * 950 + [
        (surveys["csat"], "chat_ended")
    ] * 700
    jobs += [(surveys["ces"], "checkout_completed")] * 900 + [
        (surveys["exit"], "subscription_cancelled")
    ] * 200

    displays, responses, answers_by_response = [], [], []
    for survey, key in jobs:
        touchpoint = touchpoints[key]
        contact = rng.choice(contacts)
        email_channel = (
            "email" in survey.channels and touchpoint.channel == "email" and rng.random() < 0.7
        )
        channel = SurveyChannel.EMAIL if email_channel else SurveyChannel.WIDGET
        # The last three weeks got worse at support: a trend the dashboards should flag.
        claimed_at = now - timedelta(days=rng.uniform(0, 90))
        recent_dip = -1.2 if key == "support_ticket_closed" and (now - claimed_at).days < 21 else 0
        m = mood[key] + CHANNEL_SHIFT[channel] + PLAN_SHIFT[plan_of[contact.pk]] + recent_dip
        display = Display(
            project=project,
            contact=contact,
            survey=survey,
            version=survey.current_version,
            touchpoint=touchpoint,
            channel=channel,
            language=contact.language,
            claimed_at=claimed_at,
            shown_at=claimed_at + timedelta(seconds=3),
            created_at=claimed_at,
        )
        displays.append(display)
        if rng.random() < 0.22:  # shown, not answered
            display.status = rng.choice([DisplayStatus.DISMISSED, DisplayStatus.SHOWN])
            display.dismissed_at = (
                claimed_at + timedelta(seconds=20)
                if display.status == DisplayStatus.DISMISSED
                else None
            )
            continue
        finished_at = claimed_at + timedelta(seconds=rng.randint(8, 90))
        display.status = DisplayStatus.RESPONDED
        display.responded_at = finished_at
        response = Response(
            project=project,
            survey=survey,
            version=survey.current_version,
            display=display,
            contact=contact,
            touchpoint=touchpoint,
            channel=channel,
            submission_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            finished=True,
            finished_at=finished_at,
            language=contact.language,
            segment={k: contact.attributes[k] for k in ("plan", "region")},
            meta={"device": rng.choice(["mobile", "desktop", "tablet"])},
            rolled_up_at=finished_at,  # counted by the rebuild below
            processed_at=finished_at,
            created_at=claimed_at,
        )
        responses.append(response)
        answers_by_response.append(_answers_for(survey, questions[survey.pk], m, rng))

    Display.objects.bulk_create(displays, batch_size=2000)
    Response.objects.bulk_create(responses, batch_size=2000)
    saved = {
        r.submission_id: r.pk
        for r in Response.objects.filter(project=project).only("pk", "submission_id")
    }
    answers = []
    for response, items in zip(responses, answers_by_response, strict=True):
        for question, value in items:
            answer = Answer(
                response_id=saved[response.submission_id],
                question=question,
                question_type=question.type,
            )
            if isinstance(value, int):
                answer.value_int = value
            elif isinstance(value, list):
                answer.value_choices = value
            else:
                answer.value_text = value
            answers.append(answer)
    Answer.objects.bulk_create(answers, batch_size=5000)

    reasons = [
        (DecisionReason.SHOWN, 30),
        (DecisionReason.GLOBAL_COOLDOWN, 25),
        (DecisionReason.SURVEY_COOLDOWN, 12),
        (DecisionReason.ALREADY_RESPONDED, 10),
        (DecisionReason.FREQUENCY_CAP, 6),
        (DecisionReason.SAMPLED_OUT, 8),
        (DecisionReason.SNOOZED, 4),
        (DecisionReason.TARGETING, 3),
        (DecisionReason.OPTED_OUT, 1),
        (DecisionReason.DISPLAY_LIMIT, 1),
    ]
    names, weights = zip(*reasons, strict=True)
    survey_list = list(surveys.values())
    # Each survey's decides at its own touchpoints, in turn (no extra draws: the generator's
    # sequence, and so everything seeded after this, stays as it was).
    survey_touchpoints = {
        survey.pk: sorted({key for s, key in jobs if s.pk == survey.pk}) for survey in survey_list
    }
    decision_counts: Counter = Counter()
    for i in range(12000):
        survey = rng.choice(survey_list)
        reason = rng.choices(names, weights=weights)[0]
        at = now - timedelta(days=rng.uniform(0, 90))
        keys = survey_touchpoints[survey.pk]
        touchpoint = touchpoints[keys[i % len(keys)]]
        channel = response_channel(SurveyChannel.WIDGET, touchpoint.channel)
        stage = touchpoint.stage.key if touchpoint.stage else ""
        day = local_day(at, project_zone(project))
        decision_counts[(survey.pk, touchpoint.key, stage, channel, reason, day)] += 1
    DecisionCount.objects.bulk_create(
        [
            DecisionCount(
                project=project,
                survey_id=survey_id,
                touchpoint_key=touchpoint_key,
                stage_key=stage_key,
                channel=channel,
                reason=reason,
                day=day,
                count=n,
            )
            for (survey_id, touchpoint_key, stage_key, channel, reason, day), n in sorted(
                decision_counts.items()
            )
        ],
        batch_size=5000,
    )

    events = []
    for contact in contacts:
        for _ in range(rng.randint(0, 4)):
            events.append(
                OperationalEvent(
                    project=project,
                    contact=contact,
                    event="order_placed",
                    occurred_at=now - timedelta(days=rng.uniform(0, 120)),
                    revenue=Decimal(rng.randint(1500, 25000)) / 100,
                    properties={"items": rng.randint(1, 5)},
                )
            )
    OperationalEvent.objects.bulk_create(events, batch_size=5000)
    revenue: dict[int, Decimal] = {}
    for event in events:
        if event.revenue:
            revenue[event.contact_id] = revenue.get(event.contact_id, Decimal(0)) + event.revenue
    for contact in contacts:
        contact.revenue_total = revenue.get(contact.pk, Decimal(0))
    Contact.objects.bulk_update(contacts, ["revenue_total"], batch_size=2000)
    _churn(project, rng, now)
    return len(responses)


# Who leaves depends on how they felt: the link the executive dashboard shows.
CHURN_BY_LAST_NPS = {"detractor": 0.22, "passive": 0.09, "promoter": 0.03, None: 0.07}


def _churn(project: Project, rng: random.Random, now) -> None:
    """Every contact became a customer when their row was made (a `subscription_started` event);
    some cancel after their last order, likelier for detractors. The lifecycle history is then
    replayed from these events, as if each had come through the events API."""

    contacts_backfill_last_nps(project=project)
    last_order = dict(
        OperationalEvent.objects.filter(project=project)
        .values("contact_id")
        .annotate(last=Max("occurred_at"))
        .values_list("contact_id", "last")
    )
    events = []
    for contact in Contact.objects.filter(project=project).order_by("pk"):
        events.append(
            OperationalEvent(
                project=project,
                contact=contact,
                event="subscription_started",
                occurred_at=contact.created_at,
            )
        )
        score = contact.last_nps
        category = None if score is None else nps_category(score)
        if rng.random() >= CHURN_BY_LAST_NPS[category]:
            continue
        earliest = max(now - timedelta(days=120), last_order.get(contact.pk, contact.created_at))
        events.append(
            OperationalEvent(
                project=project,
                contact=contact,
                event="subscription_cancelled",
                occurred_at=earliest + (now - earliest) * rng.random(),
            )
        )
    OperationalEvent.objects.bulk_create(events, batch_size=5000)
    contacts_lifecycle_rebuild(project=project)


def _answers_for(
    survey: Survey, questions: list[Question], mood: float, rng: random.Random
) -> list:
    """Answers for one response, honouring show_if; comments follow the first score's mood."""
    out: list = []
    first: Question | None = None
    first_score: int | None = None
    for question in questions:
        if first_score is not None and not shown(question.show_if, first_score):
            continue
        if question.type == "nps":
            value: int | str | list = _nps_score(rng, mood)
        elif question.type in ("csat", "ces", "rating"):
            value = _scale_score(rng, mood, question.scale_max)
        elif question.type == "text":
            if rng.random() < 0.45:
                continue
            on_ten = 7 if first_score is None else first_score
            if first is not None and first.type != "nps":  # map 1..max onto 0..10
                on_ten = round(10 * (first_score - 1) / (first.scale_max - 1))
            value = _comment(rng, on_ten)
        elif question.type == "single_choice":
            value = rng.choice(question.choices)["id"]
        elif question.type == "multi_choice":
            value = [c["id"] for c in rng.sample(question.choices, rng.randint(1, 2))]
        else:
            continue
        if first_score is None and isinstance(value, int):
            first, first_score = question, value
        out.append((question, value))
    return out


ROOT_CAUSES = (
    "Courier delay",
    "Damaged in transit",
    "Billing error",
    "App bug",
    "Slow support reply",
    "Missing feature",
    "Expectation mismatch",
)


def _work_old_cases(project: Project, rng: random.Random, now: datetime) -> None:
    """Give the inbox a past: older unhappy answers went through the real alert rules, and
    the team worked those cases (claimed, contacted, resolved — some late — and closed).
    Customers who answered happily afterwards are then marked recovered by the real hook."""

    agent = get_user_model().objects.get(username="agent")
    unhappy = list(
        Response.objects.filter(
            project=project,
            finished_at__lt=now - timedelta(days=3),
            answers__question_type="nps",
            answers__value_int__lte=3,
        )
        .order_by("finished_at")
        .values_list("pk", "finished_at")
    )
    for response_id, finished_at in rng.sample(unhappy, min(90, len(unhappy))):
        for case in cases_open_for_response(response_id):
            contacted = finished_at + timedelta(hours=rng.uniform(0.5, 20))
            resolved = contacted + timedelta(hours=rng.uniform(0.5, 12))
            Case.objects.filter(pk=case.pk).update(
                created_at=finished_at,
                updated_at=resolved,
                status="closed",
                assignee=agent,
                first_contacted_at=contacted,
                resolved_at=resolved,
                closed_at=resolved + timedelta(hours=1),
                root_cause=rng.choice(ROOT_CAUSES),
                contact_method=rng.choice(ContactMethod.values[:3]),
                resolution_note="Apologised and fixed it for the customer.",
            )
            CaseEvent.objects.filter(case=case).update(created_at=finished_at)
            steps = [
                ("claimed", "", "agent", finished_at + timedelta(minutes=20)),
                ("status", "in_progress", "contacted", contacted),
                ("status", "contacted", "resolved", resolved),
                ("status", "resolved", "closed", resolved + timedelta(hours=1)),
            ]
            for kind, before, after, at in steps:
                event = CaseEvent.objects.create(
                    case=case, actor=agent, kind=kind, from_value=before, to_value=after
                )
                CaseEvent.objects.filter(pk=event.pk).update(created_at=at)
    worked = Case.objects.filter(project=project, status="closed").values_list("contact_id")
    later = Response.objects.filter(project=project, contact_id__in=worked).order_by("finished_at")
    for response_id in later.values_list("pk", flat=True):
        cases_recover_for_response(response_id)
    recovered_at = Case.objects.filter(pk=OuterRef("case_id")).values("recovered_at")
    CaseEvent.objects.filter(case__project=project, kind="recovered").update(
        created_at=Subquery(recovered_at)
    )


def _open_recent_cases(project: Project) -> int:
    """Run the real alert rules over the latest detractors so the inbox has live cases."""

    recent = (
        Response.objects.filter(
            project=project,
            answers__question_type="nps",
            answers__value_int__lte=NPS_DETRACTOR_AT_MOST,
        )
        .order_by("-finished_at")
        .values_list("pk", flat=True)[:8]
    )
    for response_id in recent:
        cases_open_for_response(response_id)
    return Case.objects.filter(project=project).count()


def _cases(project: Project, rng: random.Random, now: datetime) -> None:
    """Seed cases quietly: no case e-mails for demo history (the rules keep their setting)."""

    rules = AlertRule.objects.filter(project=project, notify_email=True)
    quiet = list(rules.values_list("pk", flat=True))
    rules.update(notify_email=False)
    caches.alert_rules_forget(project_id=project.pk)
    try:
        _work_old_cases(project, rng, now)
        _open_recent_cases(project)
    finally:
        AlertRule.objects.filter(pk__in=quiet).update(notify_email=True)
        caches.alert_rules_forget(project_id=project.pk)


def demo_allowed() -> bool:
    """Only run modes that say so (local, test) may hold the demo: its staff logins have a
    known password. Production does not, nor does any settings module that does not say."""
    return getattr(settings, "VOCSITE_DEMO_ALLOWED", False) is True


def demo_seed(*, seed: int = 42) -> DemoInfo:
    """Create the demo project once; later calls only make sure the staff users exist."""
    if not demo_allowed():
        raise ApplicationError(
            "demo_not_allowed",
            f"Refusing to seed the demo under {settings.SETTINGS_MODULE}: its staff logins have "
            "a known password. The demo belongs to the embedded default (make run, "
            "vocsite.settings.local); create real projects with manage.py create_project.",
        )
    existing = Project.objects.filter(is_demo=True).first()
    if existing is not None:
        _ensure_users(existing)
        _ensure_origins(existing)

        return DemoInfo(
            existing, created=False, responses=Response.objects.filter(project=existing).count()
        )

    rng = random.Random(seed)
    now = timezone.now()
    with transaction.atomic():
        project, _key = project_create(
            name="Demo Shop", allowed_origins=demo_origins(), languages=["en", "zh"]
        )
        project.is_demo = True
        project.breakdown_attributes = ["plan", "region"]
        project.theme = {"primary_color": "#4f46e5"}
        project.save(update_fields=["is_demo", "breakdown_attributes", "theme", "updated_at"])
        _ensure_users(project)
        _ensure_team(project)
        stages = {
            key: stage_create(project=project, key=key, name=name, position=i)
            for i, (key, name) in enumerate(STAGES)
        }
        for i, (key, name, stage, channel, _mood) in enumerate(TOUCHPOINTS):
            touchpoint_create(
                project=project,
                key=key,
                name=name,
                stage=stages[stage],
                channel=channel,
                position=i,
            )
        surveys = _build_surveys(project)
        count = _history(project, surveys, rng, now)
    _analyze()
    _topics(project)
    _roll_up(project)
    _cases(project, rng, now)
    return DemoInfo(project, created=True, responses=count)


# Topics the CX team has defined; app stability (logging out, crashes, 闪退) is left out on
# purpose, so the suggestions have something real to offer.
DEMO_TOPICS = (
    ("Delivery", ["delivery", "shipping", "courier", "配送", "物流", "快递"], ["delivery address"]),
    ("Refunds", ["refund", "money back", "退款", "到账"], []),
    ("Price", ["expensive", "price", "性价比", "价格", "太贵"], []),
    ("Support", ["support", "agent", "客服"], []),
    ("Checkout & payment", ["checkout", "credit card", "payment", "付款", "结账"], []),
    ("Speed", ["slow", "slower", "faster", "慢", "加载"], []),
)


def _topics(project: Project) -> None:
    """The demo's topics, with all history tagged and its sentiment set (history is inserted
    in bulk, so it never went through the pipeline)."""

    for name, keywords, exclusions in DEMO_TOPICS:
        Topic.objects.create(project=project, name=name, keywords=keywords, exclusions=exclusions)
    rules = project_rules(project.pk)
    answers = Answer.objects.filter(response__project=project, question_type="text").exclude(
        value_text=""
    )
    last = 0
    while chunk := list(answers.filter(pk__gt=last).order_by("pk")[:1000]):
        with transaction.atomic():
            tag_answers(chunk, rules)
        last = chunk[-1].pk


def _analyze() -> None:
    """Give PostgreSQL's planner statistics for the history just bulk-inserted. On a brand-new
    database autovacuum has not analysed anything yet, and the steps below (tagging, rollups,
    backfills, cases) were planned for empty tables — nested loops over tens of thousands of
    rows, minutes instead of seconds."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _roll_up(project: Project) -> None:

    rollups_rebuild(project=project)
