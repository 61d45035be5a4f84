"""Django admin: every model of the three apps is registered and its pages render."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

APPS = ("surveys", "feedback", "metrics")


def test_every_domain_model_is_in_the_admin():
    missing = [
        model.__name__
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry
    ]
    assert missing == []


@pytest.mark.django_db
def test_every_changelist_and_change_page_renders_on_demo_data(demo, admin_client):
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            info = (model._meta.app_label, model._meta.model_name)
            changelist = admin_client.get(reverse(f"admin:{info[0]}_{info[1]}_changelist"))
            assert changelist.status_code == 200, info
            first = model.objects.order_by("pk").first()
            if first is not None:
                page = admin_client.get(
                    reverse(f"admin:{info[0]}_{info[1]}_change", args=[first.pk])
                )
                assert page.status_code == 200, info
