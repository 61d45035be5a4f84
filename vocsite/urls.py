"""URL map: widget API, server/management API, OpenAPI, staff UI, hosted pages, admin."""

import os

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from vocsite import views
from vocsite.csp import api_docs_page

urlpatterns = [
    # First: the widget API is most of the traffic, and Django tries the routes in order.
    path("api/widget/v1/", include("surveys.widget_urls")),
    path("api/widget/v1/", include("feedback.widget_urls")),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password change and reset (invited members make their account from the invitation link).
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file: no inline script (CSP).
    path(
        "api/docs/",
        api_docs_page(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/v1/", include("surveys.api_urls")),
    path("api/v1/", include("feedback.api_urls")),
    path("api/v1/", include("metrics.api_urls")),
    path("api/v1/", include("surveys.contacts_api_urls")),
    path("api/v1/", include("surveys.events_api_urls")),
    path("api/v1/", include("feedback.topics_api_urls")),
    path("app/", include("surveys.urls")),
    path("app/", include("feedback.urls")),
    path("app/", include("metrics.urls")),
    path("app/", include("feedback.topics_urls")),
    path("", include("feedback.hosted_urls")),
    path("", include("metrics.demo.urls")),
]

if os.environ.get("VOCSITE_BENCH_VIEWS") == "1":
    urlpatterns += [path("", include("surveys.bench_urls"))]

handler404 = "vocsite.views.not_found"
handler500 = "vocsite.views.server_failure"
