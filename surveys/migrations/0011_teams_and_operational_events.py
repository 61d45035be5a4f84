"""Teams and operational events move from the feedback app to surveys (tenancy and contacts).

State only: the tables keep their names (`db_table`), so no row moves; the content types
follow so permissions and admin history stay attached."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED = ("team", "teammembership", "operationalevent")


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_follow(apps, schema_editor) -> None:
    _relabel(apps, "feedback", "surveys")


def content_types_return(apps, schema_editor) -> None:
    _relabel(apps, "surveys", "feedback")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("surveys", "0010_lifecycle_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OperationalEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "event_id",
                            models.CharField(
                                blank=True, help_text="Idempotency key.", max_length=100
                            ),
                        ),
                        ("event", models.CharField(max_length=100)),
                        ("occurred_at", models.DateTimeField()),
                        ("properties", models.JSONField(blank=True, default=dict)),
                        (
                            "revenue",
                            models.DecimalField(
                                blank=True, decimal_places=2, max_digits=14, null=True
                            ),
                        ),
                        (
                            "contact",
                            models.ForeignKey(
                                blank=True,
                                db_index=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="events",
                                to="surveys.contact",
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="operational_events",
                                to="surveys.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_operationalevent",
                    },
                ),
                migrations.AlterField(
                    model_name="invitation",
                    name="operational_event",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="invitations",
                        to="surveys.operationalevent",
                    ),
                ),
                migrations.AlterField(
                    model_name="lifecyclechange",
                    name="event",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="lifecycle_changes",
                        to="surveys.operationalevent",
                    ),
                ),
                migrations.CreateModel(
                    name="Team",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=100)),
                        (
                            "email",
                            models.EmailField(
                                blank=True,
                                help_text="Shared inbox notified of new cases.",
                                max_length=254,
                            ),
                        ),
                        ("round_robin_cursor", models.PositiveIntegerField(default=0)),
                        (
                            "lead",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="led_teams",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "project",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="teams",
                                to="surveys.project",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_team",
                    },
                ),
                migrations.CreateModel(
                    name="TeamMembership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "team",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="surveys.team",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="team_memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "feedback_teammembership",
                    },
                ),
                migrations.AddField(
                    model_name="team",
                    name="members",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="teams",
                        through="surveys.TeamMembership",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddIndex(
                    model_name="operationalevent",
                    index=models.Index(
                        fields=["project", "event", "occurred_at"], name="opevent_kind_time"
                    ),
                ),
                migrations.AddIndex(
                    model_name="operationalevent",
                    index=models.Index(
                        fields=["contact", "occurred_at"], name="opevent_contact_time"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="operationalevent",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("event_id", ""), _negated=True),
                        fields=("project", "event_id"),
                        name="operational_event_id_unique",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="teammembership",
                    constraint=models.UniqueConstraint(
                        fields=("team", "user"), name="team_membership_unique"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="team",
                    constraint=models.UniqueConstraint(
                        fields=("project", "name"), name="team_name_unique"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_return),
    ]
