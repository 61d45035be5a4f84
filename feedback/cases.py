"""Alert rules and follow-up cases (the closed loop)."""

from __future__ import annotations

from feedback.models import AlertRule, CasePriority
from surveys.models import Project, QuestionType

DEFAULT_RULES = (
    ("NPS detractor (0–6)", QuestionType.NPS, 0, 6, CasePriority.HIGH, 24),
    ("Unhappy CSAT (1–2 of 5)", QuestionType.CSAT, 1, 2, CasePriority.HIGH, 24),
    ("Hard effort CES (1–3 of 7)", QuestionType.CES, 1, 3, CasePriority.NORMAL, 48),
)


def alert_rules_install_defaults(*, project: Project) -> list[AlertRule]:
    """New projects start with rules that turn every unhappy score into a case."""
    return [
        AlertRule.objects.get_or_create(
            project=project,
            name=name,
            defaults={
                "question_type": question_type,
                "score_min": low,
                "score_max": high,
                "priority": priority,
                "sla_hours": sla_hours,
            },
        )[0]
        for name, question_type, low, high, priority, sla_hours in DEFAULT_RULES
    ]
