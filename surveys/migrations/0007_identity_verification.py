"""Identity verification for widget calls (DESIGN.md §6).

Projects that exist already keep working as before (verification off, a warning in Settings)
until their server sends user_hash; each gets its own identity secret. New projects start
with verification on (the model's default)."""

import secrets

from django.db import migrations, models

import surveys.models


def give_each_project_a_secret(apps, schema_editor):
    Project = apps.get_model("surveys", "Project")
    for project in Project.objects.only("pk").iterator():
        Project.objects.filter(pk=project.pk).update(
            identity_secret=f"is_{secrets.token_urlsafe(32)}"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0006_created_at_not_indexed"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="identity_secret",
            field=models.CharField(default=surveys.models.new_identity_secret, max_length=100),
        ),
        migrations.RunPython(give_each_project_a_secret, migrations.RunPython.noop),
        migrations.AddField(
            model_name="project",
            name="identity_verification",
            field=models.BooleanField(default=False),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="project",
            name="identity_verification",
            field=models.BooleanField(
                default=True,
                help_text="Refuse widget calls whose user_id is not signed with the identity secret.",
            ),
        ),
    ]
