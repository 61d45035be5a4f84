"""The 400, 403, 404 and 500 pages people see with DEBUG off: styled like the staff UI, with
the navigation their role opens (so a bad link is not a dead end); the 500 page renders with
no request and no database."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from tests.factories import MembershipFactory, UserFactory
from vocsite.views import server_failure

NAV_LINK = '<a class="nav-link" href="/app/surveys/" title="Surveys"'
SETTINGS_LINK = 'href="/app/settings/"'
STYLES = '<link rel="stylesheet" href="/static/vendor/bootstrap.min.css">'


def signed_in(project, role: str) -> Client:
    user = UserFactory(username=role)
    MembershipFactory(user=user, project=project, role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_missing_page_keeps_the_navigation_of_the_role(project):
    reply = signed_in(project, "designer").get("/app/no-such-page/")
    html = reply.content.decode()
    assert reply.status_code == 404
    assert '<h1 class="h4 mb-3">This page does not exist</h1>' in html
    assert NAV_LINK in html and STYLES in html
    assert SETTINGS_LINK not in html  # a designer's navigation has no admin pages
    assert '<a class="btn btn-primary btn-sm" href="/app/">Go to your start page</a>' in html


@pytest.mark.django_db
def test_a_page_the_role_may_not_open_is_403_with_the_navigation(project):
    reply = signed_in(project, "designer").get("/app/settings/")
    html = reply.content.decode()
    assert reply.status_code == 403
    assert '<h1 class="h4 mb-3">Your role does not allow this page</h1>' in html
    assert NAV_LINK in html and SETTINGS_LINK not in html


@pytest.mark.django_db
def test_an_anonymous_visitor_sees_no_staff_navigation(project):
    reply = Client().get("/app/no-such-page/")
    html = reply.content.decode()
    assert reply.status_code == 404
    assert 'class="nav-link' not in html and STYLES in html
    assert '<a class="btn btn-primary btn-sm" href="/app/">Go to your start page</a>' in html


@pytest.mark.django_db
def test_a_request_that_cannot_be_read_is_a_styled_400(project, settings):
    """Refused before the session is read (the form has too many fields): no navigation, the
    way back is the start page."""
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    client = signed_in(project, "admin")
    reply = client.post("/app/settings/", {f"field{n}": "x" for n in range(5)})
    html = reply.content.decode()
    assert reply.status_code == 400
    assert '<h1 class="h4 mb-3">The request could not be read</h1>' in html
    assert STYLES in html
    assert '<a class="btn btn-primary btn-sm" href="/app/">Go to your start page</a>' in html


@pytest.mark.django_db
def test_an_unknown_api_url_still_answers_json(project):
    reply = Client().get("/api/v1/no-such-endpoint")
    assert (reply.status_code, reply.json()["error"]["code"]) == (404, "not_found")


def test_the_500_page_renders_without_a_database_or_request():
    """No `django_db` mark: any query would fail the test."""
    html = render_to_string("500.html")
    assert '<h1 class="h4 mb-3">Something went wrong on our side</h1>' in html
    assert STYLES in html
    assert '<a class="navbar-brand fw-semibold" href="/app/">' in html
    reply = server_failure(RequestFactory().get("/app/surveys/"))
    assert reply.status_code == 500
    assert "Something went wrong on our side" in reply.content.decode()


@pytest.mark.django_db
def test_a_form_without_its_csrf_token_is_a_styled_403_with_the_navigation(project):
    user = UserFactory(username="boss")
    MembershipFactory(user=user, project=project, role="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    reply = client.post("/app/settings/teams/", {"name": "Care"})
    html = reply.content.decode()
    assert reply.status_code == 403
    assert '<h1 class="h4 mb-3">This form could not be sent</h1>' in html
    assert SETTINGS_LINK in html and STYLES in html
    assert not project.teams.exists()
