"""Lifecycle history (LifecycleChange), rebuilt from the operational events stored so far.

Until now only a contact's current state was kept (`lifecycle`, `churned_at`), set as events
arrived: a back-dated event was placed at its arrival, a reactivation erased the earlier churn.
Each contact with events gets its history replayed in event-time order by the one rule
(surveys.lifecycle), and its `lifecycle`/`churned_at` become its latest change.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from surveys.contacts.lifecycle import CHURNED, EventFact, lifecycle_changes

BATCH = 5000


def history_rebuild(apps, schema_editor):
    OperationalEvent = apps.get_model("feedback", "OperationalEvent")
    LifecycleChange = apps.get_model("surveys", "LifecycleChange")
    Contact = apps.get_model("surveys", "Contact")
    rows, states = [], []

    def flush(force=False):
        if rows and (force or len(rows) >= BATCH):
            LifecycleChange.objects.bulk_create(rows, batch_size=BATCH)
            rows.clear()
        if states and (force or len(states) >= BATCH):
            Contact.objects.bulk_update(states, ["lifecycle", "churned_at"], batch_size=BATCH)
            states.clear()

    def replay(contact_id, project_id, facts):
        changes = lifecycle_changes(facts)
        rows.extend(
            LifecycleChange(
                project_id=project_id,
                contact_id=contact_id,
                kind=c.kind,
                occurred_at=c.occurred_at,
                ended_at=c.ended_at,
                event_id=c.event_key,
            )
            for c in changes
        )
        latest = changes[-1]
        churned = latest.kind == CHURNED
        states.append(
            Contact(
                pk=contact_id,
                lifecycle="churned" if churned else "active",
                churned_at=latest.occurred_at if churned else None,
            )
        )
        flush()

    events = (
        OperationalEvent.objects.filter(contact__isnull=False)
        .order_by("contact_id", "occurred_at", "pk")
        .values_list("pk", "contact_id", "project_id", "event", "occurred_at", "revenue")
    )
    current, project_id, facts = None, None, []
    for pk, contact_id, event_project_id, name, occurred_at, revenue in events.iterator(
        chunk_size=BATCH
    ):
        if contact_id != current:
            if facts:
                replay(current, project_id, facts)
            current, project_id, facts = contact_id, event_project_id, []
        facts.append(EventFact(pk, name, occurred_at, revenue))
    if facts:
        replay(current, project_id, facts)
    flush(force=True)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0008_webhookdelivery_contact"),
        ("surveys", "0009_question_scale_wording"),
    ]

    operations = [
        migrations.CreateModel(
            name="LifecycleChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("started", "Started"),
                            ("churned", "Churned"),
                            ("reactivated", "Reactivated"),
                        ],
                        max_length=16,
                    ),
                ),
                ("occurred_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                (
                    "contact",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lifecycle_changes",
                        to="surveys.contact",
                    ),
                ),
                (
                    "event",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="lifecycle_changes",
                        to="feedback.operationalevent",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lifecycle_changes",
                        to="surveys.project",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["project", "occurred_at"], name="lifecycle_project_time"),
                    models.Index(fields=["contact", "occurred_at"], name="lifecycle_contact_time"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["started", "churned", "reactivated"])),
                        name="lifecycle_change_kind",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("ended_at__isnull", True),
                            ("ended_at__gte", models.F("occurred_at")),
                            _connector="OR",
                        ),
                        name="lifecycle_change_ends_after_it_starts",
                    ),
                ],
            },
        ),
        migrations.RunPython(history_rebuild, migrations.RunPython.noop),
    ]
