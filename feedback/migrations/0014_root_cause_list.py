import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Root causes come from a per-project list that admins manage, instead of free text that
    split one cause over several spellings; one answer opens one case, whose other matching
    rules are recorded on it (`also_matched`). The free text is copied into the list by the
    next migration and dropped by the one after (each in its own transaction: PostgreSQL
    refuses to alter a table with rows updated earlier in the same transaction)."""

    dependencies = [
        ("feedback", "0013_feedback_handled"),
        ("surveys", "0011_teams_and_operational_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="RootCause",
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
                ("name", models.CharField(max_length=200)),
                ("is_active", models.BooleanField(default=True)),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="root_causes",
                        to="surveys.project",
                    ),
                ),
            ],
            options={"ordering": ["name"]},
        ),
        migrations.AddConstraint(
            model_name="rootcause",
            constraint=models.UniqueConstraint(
                fields=("project", "name"), name="root_cause_name_unique"
            ),
        ),
        migrations.RenameField(
            model_name="case", old_name="root_cause", new_name="root_cause_text"
        ),
        migrations.AddField(
            model_name="case",
            name="root_cause",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="cases",
                to="feedback.rootcause",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="also_matched",
            field=models.ManyToManyField(blank=True, related_name="+", to="feedback.alertrule"),
        ),
    ]
