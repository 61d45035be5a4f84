"""Settings → Install status: the widget's calls noted per origin (served or refused), the
page that shows them with a one-click allow, a refusal the widget can read, and a demo that
follows the port it is served on."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from metrics.demo.seed import demo_origins, demo_seed
from surveys.delivery import origin_log
from surveys.delivery.models import WidgetOrigin
from surveys.delivery.origin_log import REFUSED_ORIGINS_KEPT
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

SHOP = "http://shop.example"  # the factory project's allowed origin


def config(project, origin: str | None):
    client = APIClient()
    if origin:
        client.defaults["HTTP_ORIGIN"] = origin
    return client.get(f"/api/widget/v1/config?key={project.public_key}")


def seen(project) -> dict[str, tuple[bool, bool]]:
    """{origin: (has a served call, has a refused call)}"""
    return {
        row.origin: (row.last_allowed_at is not None, row.last_refused_at is not None)
        for row in WidgetOrigin.objects.filter(project=project)
    }


@pytest.fixture
def admin(project, staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_calls_are_noted_per_origin_served_or_refused(project):
    assert config(project, SHOP).status_code == 200
    assert config(project, "HTTP://Shop.Example/").status_code == 200  # the same origin
    refused = config(project, "https://evil.example")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    # The refusal is readable by the page, so the widget can say why it is held back.
    assert refused["Access-Control-Allow-Origin"] == "https://evil.example"
    assert config(project, None).status_code == 200  # a server-side call names no origin
    assert seen(project) == {SHOP: (True, False), "https://evil.example": (False, True)}


def test_an_unknown_key_notes_nothing(db):
    client = APIClient()
    client.defaults["HTTP_ORIGIN"] = SHOP
    assert client.get("/api/widget/v1/config?key=pk_unknown0000000000").status_code == 401
    assert WidgetOrigin.objects.count() == 0


def test_notes_are_written_in_batches_keeping_the_latest_times(project, settings):
    settings.WIDGET_ORIGIN_FLUSH_SECONDS = 3600  # the flusher thread never fires here
    t0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    for minutes, allowed in ((5, True), (1, True), (3, False), (2, False)):
        origin_log.note(
            project_id=project.pk, origin=SHOP, allowed=allowed, at=t0 + timedelta(minutes=minutes)
        )
    assert WidgetOrigin.objects.count() == 0
    assert origin_log.flush() == 4
    row = WidgetOrigin.objects.get()
    assert (row.last_allowed_at, row.last_refused_at) == (
        t0 + timedelta(minutes=5),
        t0 + timedelta(minutes=3),
    )
    # A later flush with an older time (another process's) does not move the times back.
    origin_log.note(project_id=project.pk, origin=SHOP, allowed=True, at=t0)
    origin_log.flush()
    row.refresh_from_db()
    assert row.last_allowed_at == t0 + timedelta(minutes=5)


def test_refused_origins_are_capped_per_project(project):
    """Anyone can send any Origin header: a project keeps the first refused origins only."""
    for n in range(REFUSED_ORIGINS_KEPT + 5):
        assert config(project, f"https://site{n}.example").status_code == 403
    assert WidgetOrigin.objects.filter(project=project).count() == REFUSED_ORIGINS_KEPT
    assert config(project, "https://site0.example").status_code == 403  # a kept one: updated
    assert config(project, SHOP).status_code == 200  # served origins are never capped
    assert WidgetOrigin.objects.filter(project=project).count() == REFUSED_ORIGINS_KEPT + 1


def test_the_page_shows_what_calls_and_what_was_refused(project, admin):
    project.allowed_origins = [SHOP, "https://app.shop.example"]
    project.save()
    config(project, SHOP)
    config(project, "https://staging.shop.example")
    other = ProjectFactory()
    config(other, "https://other-tenant.example")
    page = admin.get("/app/settings/install/")
    assert page.status_code == 200
    html = page.content.decode()
    allowed = html[html.index('id="allowed-origins"') : html.index("</table>")]
    assert allowed.count("<tr>") == 3  # the head and the two allowed origins
    assert "Connected" in allowed and "No call yet" in allowed
    refused = html[html.index('id="refused-origins"') :]
    assert "https://staging.shop.example" in refused
    assert "other-tenant" not in html
    assert "/app/settings/install/" in admin.get("/app/settings/").content.decode()


def test_allowing_a_refused_origin_lets_its_widget_in(project, admin):
    assert config(project, "https://staging.shop.example").status_code == 403
    response = admin.post(
        "/app/settings/install/allow/", {"origin": "https://staging.shop.example"}
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.allowed_origins == [SHOP, "https://staging.shop.example"]
    assert config(project, "https://staging.shop.example").status_code == 200
    page = admin.get("/app/settings/install/").content.decode()
    assert 'id="refused-origins"' not in page


def test_only_refused_origins_can_be_allowed_here(project, admin):
    """The button allows what was refused; anything else goes through Settings."""
    response = admin.post("/app/settings/install/allow/", {"origin": "https://never-seen.example"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.allowed_origins == [SHOP]
    page = admin.get(response["Location"]).content.decode()
    assert "is not a refused origin of this project" in page


def test_only_admins_see_and_change_the_install_status(project):
    config(project, "https://staging.shop.example")
    viewer = UserFactory()
    MembershipFactory(user=viewer, project=project, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert client.get("/app/settings/install/").status_code == 403
    allow = client.post("/app/settings/install/allow/", {"origin": "https://staging.shop.example"})
    assert allow.status_code == 403
    project.refresh_from_db()
    assert project.allowed_origins == [SHOP]


def test_the_demo_follows_the_port_it_is_served_on(db, settings):
    """`make run PORT=8101` on a database whose demo was seeded on :8000."""
    demo = ProjectFactory(is_demo=True, allowed_origins=["http://127.0.0.1:8000"])
    settings.VOCSITE_BASE_URL = "http://127.0.0.1:8101"
    assert demo_origins() == ["http://127.0.0.1:8101", "http://localhost:8101"]
    assert demo_seed().created is False  # it exists: only its users and origins are made sure of
    demo.refresh_from_db()
    assert {"http://127.0.0.1:8101", "http://localhost:8101"} <= set(demo.allowed_origins)
    assert config(demo, "http://localhost:8101").status_code == 200
