"""The feedback app lets go of teams and operational events (now in surveys); state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0009_processing_failures_sla_bound"),
        ("surveys", "0011_teams_and_operational_events"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="team",
                    name="lead",
                ),
                migrations.RemoveField(
                    model_name="team",
                    name="members",
                ),
                migrations.RemoveField(
                    model_name="team",
                    name="project",
                ),
                migrations.RemoveField(
                    model_name="teammembership",
                    name="team",
                ),
                migrations.AlterField(
                    model_name="alertrule",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="alert_rules",
                        to="surveys.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="surveys.team",
                    ),
                ),
                migrations.RemoveField(
                    model_name="teammembership",
                    name="user",
                ),
                migrations.DeleteModel(
                    name="OperationalEvent",
                ),
                migrations.DeleteModel(
                    name="Team",
                ),
                migrations.DeleteModel(
                    name="TeamMembership",
                ),
            ],
            database_operations=[],
        ),
    ]
