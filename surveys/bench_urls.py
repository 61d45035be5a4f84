"""Baseline routes for `make bench` (mounted only when VOCSITE_BENCH_VIEWS=1)."""

from django.urls import path

from surveys.delivery import bench_views

urlpatterns = [
    path("bench/bare-json", bench_views.bare_json),
    path("bench/bare-insert", bench_views.bare_insert),
]
