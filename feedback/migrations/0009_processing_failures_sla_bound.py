"""Processing failures (feedback.pipeline: a step that fails is recorded, the other steps
still run, and an answer that keeps failing is quarantined), and alert rule SLAs bounded to a
year: rules saved with more are brought down to a year before the constraint holds them."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

SLA_HOURS_MAX = 24 * 365


def sla_within_a_year(apps, schema_editor):
    AlertRule = apps.get_model("feedback", "AlertRule")
    AlertRule.objects.filter(sla_hours__gt=SLA_HOURS_MAX).update(sla_hours=SLA_HOURS_MAX)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0008_webhookdelivery_contact")]

    operations = [
        migrations.RunPython(sla_within_a_year, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alertrule",
            name="sla_hours",
            field=models.PositiveIntegerField(
                default=48,
                help_text="At most a year.",
                validators=[django.core.validators.MaxValueValidator(SLA_HOURS_MAX)],
            ),
        ),
        migrations.AddConstraint(
            model_name="alertrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("sla_hours__lte", SLA_HOURS_MAX)),
                name="alert_rule_sla_hours_bounded",
            ),
        ),
        migrations.CreateModel(
            name="ProcessingFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("attempts", models.PositiveIntegerField(default=0)),
                (
                    "steps",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="Each failed step → its error, from the last run.",
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("quarantined_at", models.DateTimeField(blank=True, null=True)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="surveys.project",
                    ),
                ),
                (
                    "response",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="processing_failure",
                        to="feedback.response",
                    ),
                ),
                (
                    "feedback",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="processing_failure",
                        to="feedback.feedback",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["project", "quarantined_at"], name="processing_failure_project"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("feedback__isnull", True), ("response__isnull", False)),
                            models.Q(("feedback__isnull", False), ("response__isnull", True)),
                            _connector="OR",
                        ),
                        name="processing_failure_one_subject",
                    )
                ],
            },
        ),
    ]
