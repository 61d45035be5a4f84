"""The question's scale joins the rollup key: `scale_wording` is added and `rollup_cell_unique`
takes `scale_max` and `scale_wording`, so answers on a question's old and new scale land in
cells of their own (DESIGN.md §7).

Cells written before this migration may hold both scales of a question whose scale changed on
the same day (the first scale's label, both scales' counts): run `manage.py rebuild_rollups`
after migrating to recount them from the answers. Days are also now cut in each project's
timezone, which the same rebuild applies to history.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0002_fk_indexes_covered_by_composites"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="rollup",
            name="rollup_cell_unique",
        ),
        migrations.AddField(
            model_name="rollup",
            name="scale_wording",
            field=models.CharField(default="agree", max_length=8),
        ),
        migrations.AddConstraint(
            model_name="rollup",
            constraint=models.UniqueConstraint(
                fields=(
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
                ),
                name="rollup_cell_unique",
            ),
        ),
    ]
