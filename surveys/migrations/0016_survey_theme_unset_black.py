"""The designer's colour input sent black (#000000) whenever nobody touched it, and nothing
drew with a survey's colour, so every survey saved in the designer holds a black nobody chose
and nobody saw. Now that the colour is drawn, those surveys go back to their project's."""

from django.db import migrations


def unset_black(apps, schema_editor):
    Survey = apps.get_model("surveys", "Survey")
    Survey.objects.filter(theme__primary_color__iexact="#000000").update(theme={})


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0015_stage_retired"),
    ]

    operations = [
        migrations.RunPython(unset_black, migrations.RunPython.noop),
    ]
