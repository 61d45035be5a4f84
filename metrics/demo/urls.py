"""Public pages that are not the API: the demo shop."""

from django.urls import path

from metrics.demo import views as demo_views

urlpatterns = [
    path("demo/", demo_views.demo_shop, name="demo-shop"),
]
