from django.db import migrations, models


def free_text_into_list(apps, schema_editor):
    """Each project's distinct free-text root causes become the entries of its list, and every
    case names its entry. Spellings that differ only by surrounding spaces or letter case are
    one entry (the first spelling met, most used first), which is what the list is for."""
    Case = apps.get_model("feedback", "Case")
    RootCause = apps.get_model("feedback", "RootCause")
    rows = (
        Case.objects.exclude(root_cause_text="")
        .values("project_id", "root_cause_text")
        .annotate(n=models.Count("pk"))
        .order_by("project_id", "-n", "root_cause_text")
    )
    entries: dict[tuple[int, str], int] = {}
    for row in rows:
        project_id, text = row["project_id"], row["root_cause_text"]
        name = " ".join(text.split())[:200]
        if not name:
            continue
        key = (project_id, name.casefold())
        if key not in entries:
            entries[key] = RootCause.objects.create(project_id=project_id, name=name).pk
        Case.objects.filter(project_id=project_id, root_cause_text=text).update(
            root_cause_id=entries[key]
        )


def list_into_free_text(apps, schema_editor):
    Case = apps.get_model("feedback", "Case")
    for case in Case.objects.exclude(root_cause=None).select_related("root_cause"):
        Case.objects.filter(pk=case.pk).update(root_cause_text=case.root_cause.name)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0014_root_cause_list")]

    operations = [migrations.RunPython(free_text_into_list, list_into_free_text)]
