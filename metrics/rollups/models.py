"""Rollup tables: additive score histograms that every metric is computed from (DESIGN.md §4, §7).

One row counts how many answers had one score value for one combination of dimensions on one
day — the day in the project's timezone (`Project.timezone`), so a day or a week is cut where the
project's people see it cut; changing the timezone rebuilds the rollups. Rows with an empty `breakdown_attribute` form the base cube; each breakdown attribute of
the project (e.g. plan, region) gets its own rows keyed by its value, so a segment filter reads
only that attribute's rows. Dimensions are stored as keys ('' = none) so that the unique
constraint holds on every database (NULLs are never equal in a unique index).

A question's scale is part of what its rows count: `scale_max` and `scale_wording` are in the
key, so a CSAT moved from 1–5 to 1–7 (same question uid) keeps its 5s and its 7s apart, and
readers score each scale on its own threshold (metrics.scores.share_by_scale).
"""

from django.db import models
from django.db.models import Q

from surveys.design.models import Survey
from surveys.tenancy.models import Project

# db_index=False on keys that lead a composite index: see the note in surveys/models.py.


class Rollup(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="rollups", db_index=False
    )
    question_uid = models.UUIDField()
    question_type = models.CharField(max_length=16)
    scale_max = models.SmallIntegerField()
    # Question.scale_wording: "agree" (high is good) or "effort" (a 1–5 CES, low is good).
    scale_wording = models.CharField(max_length=8, default="agree")
    touchpoint_key = models.CharField(max_length=100, default="", blank=True)
    stage_key = models.CharField(max_length=64, default="", blank=True)
    channel = models.CharField(max_length=16, default="", blank=True)
    breakdown_attribute = models.CharField(max_length=64, default="", blank=True)
    breakdown_value = models.CharField(max_length=200, default="", blank=True)
    day = models.DateField()
    score = models.SmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "survey",
                    "question_uid",
                    "scale_max",
                    "scale_wording",
                    "touchpoint_key",
                    "stage_key",
                    "channel",
                    "breakdown_attribute",
                    "breakdown_value",
                    "day",
                    "score",
                ],
                name="rollup_cell_unique",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=10), name="rollup_score_range"
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "question_type", "breakdown_attribute", "day"],
                name="rollup_metric_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_type} {self.day} score={self.score} ×{self.count}"
