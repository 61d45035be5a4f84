"""Webhook deliveries know the person they concern, so erasure finds them by that, not by
searching payload text. Deliveries queued before this learn it from their subject."""

import django.db.models.deletion
from django.db import migrations, models


def contact_from_subject(apps, schema_editor):
    WebhookDelivery = apps.get_model("feedback", "WebhookDelivery")
    Response = apps.get_model("feedback", "Response")
    Feedback = apps.get_model("feedback", "Feedback")
    Case = apps.get_model("feedback", "Case")
    for delivery in WebhookDelivery.objects.filter(contact__isnull=True).only("pk", "subject"):
        kind, _, rest = delivery.subject.partition(":")
        pk = rest.split(":", 1)[0]
        if not pk.isascii() or not pk.isdigit():
            continue
        contact_id = None
        if kind == "response":
            contact_id = Response.objects.filter(pk=pk).values_list("contact_id", flat=True).first()
        elif kind == "feedback":
            contact_id = Feedback.objects.filter(pk=pk).values_list("contact_id", flat=True).first()
        elif kind == "case":
            case = Case.objects.filter(pk=pk).values("contact_id", "response_id", "feedback_id").first()
            if case is not None:
                contact_id = case["contact_id"]
                if contact_id is None and case["response_id"]:
                    contact_id = Response.objects.filter(pk=case["response_id"]).values_list("contact_id", flat=True).first()
                if contact_id is None and case["feedback_id"]:
                    contact_id = Feedback.objects.filter(pk=case["feedback_id"]).values_list("contact_id", flat=True).first()
        if contact_id is not None:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(contact_id=contact_id)


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0007_created_at_not_indexed'),
        ('surveys', '0007_identity_verification'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='contact',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='webhook_deliveries', to='surveys.contact'),
        ),
        migrations.RunPython(contact_from_subject, migrations.RunPython.noop),
    ]
