"""Rollup tables: additive score histograms that every metric is computed from (DESIGN.md §4, §7).

One row counts how many answers had one score value for one combination of dimensions on one
day. Rows with an empty `breakdown_attribute` form the base cube; each breakdown attribute of
the project (e.g. plan, region) gets its own rows keyed by its value, so a segment filter reads
only that attribute's rows. Dimensions are stored as keys ('' = none) so that the unique
constraint holds on every database (NULLs are never equal in a unique index).
"""

from django.db import models
from django.db.models import Q

from surveys.models import Project, Survey

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
