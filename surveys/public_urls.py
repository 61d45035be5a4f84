"""Public pages that are not the API: the demo shop."""

from django.urls import path

from surveys import demo_views

urlpatterns = [
    path("demo/", demo_views.demo_shop, name="demo-shop"),
]
