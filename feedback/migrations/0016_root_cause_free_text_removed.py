from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("feedback", "0015_root_cause_free_text_into_list")]

    operations = [migrations.RemoveField(model_name="case", name="root_cause_text")]
