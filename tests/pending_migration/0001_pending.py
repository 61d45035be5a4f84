from django.db import migrations


class Migration(migrations.Migration):
    """Changes nothing; it only has never been applied."""

    dependencies = []
    operations = []
