"""Survey links managed by staff: `/api/v1/surveys/{id}/links` (list, create, one link,
deactivate, QR codes) and the survey's Links & QR codes page — each in its project only, and
changed only by admins and designers. The QR codes hold the link's public address."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from surveys.delivery.models import SurveyLink
from surveys.tenancy.models import AuditEntry
from surveys.tenancy.services import api_key_create
from tests.factories import (
    MembershipFactory,
    ProjectFactory,
    TouchpointFactory,
    UserFactory,
    published_survey,
)

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _public_base(settings):
    settings.VOCSITE_BASE_URL = BASE


def _create(client, survey, **body):
    return client.post(
        f"/api/v1/surveys/{survey.pk}/links",
        {"label": "Receipts", "channel": "receipt", **body},
        format="json",
    )


def test_a_link_is_created_listed_and_deactivated_through_the_api(
    server_client, survey, touchpoint
):
    reply = _create(
        server_client,
        survey,
        touchpoint=touchpoint.key,
        hidden_fields=["store", "region"],
        mode="single_use_per_contact",
    )
    assert reply.status_code == 201, reply.content
    body = reply.json()
    link = SurveyLink.objects.get()
    assert len(link.token) == 22  # 128 random bits
    api = f"http://testserver/api/v1/surveys/{survey.pk}/links/{link.pk}"
    assert body == {
        "id": link.pk,
        "survey": survey.pk,
        "label": "Receipts",
        "channel": "receipt",
        "touchpoint": "checkout_completed",
        "hidden_fields": ["store", "region"],
        "mode": "single_use_per_contact",
        "active": True,
        "url": f"{BASE}/l/{link.token}/",
        "qr_png": f"{api}/qr.png",
        "qr_svg": f"{api}/qr.svg",
        "answers": 0,
        "created_at": body["created_at"],
        "deactivated_at": None,
    }
    listed = server_client.get(f"/api/v1/surveys/{survey.pk}/links").json()
    assert [row["id"] for row in listed] == [link.pk]
    assert server_client.get(f"/api/v1/surveys/{survey.pk}/links/{link.pk}").json() == body

    off = server_client.post(f"/api/v1/surveys/{survey.pk}/links/{link.pk}/deactivate")
    assert off.status_code == 200
    assert (off.json()["active"], off.json()["deactivated_at"] is not None) == (False, True)
    assert (
        server_client.post(f"/api/v1/surveys/{survey.pk}/links/{link.pk}/deactivate").json()[
            "deactivated_at"
        ]
        == off.json()["deactivated_at"]
    )  # deactivating twice changes nothing
    assert Client().get(f"/l/{link.token}/").status_code == 404
    assert list(
        AuditEntry.objects.filter(object_type="SurveyLink")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["survey_link.created", "survey_link.deactivated"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"channel": "billboard"}, "channel", '"billboard" is not a valid choice.'),
        ({"label": "  "}, "label", "This field may not be blank."),
        ({"touchpoint": "nowhere"}, "touchpoint", "Not a touchpoint of this project in use."),
        (
            {"hidden_fields": ["user_id"]},
            "hidden_fields.0",
            "This name is used by the survey page itself.",
        ),
        (
            {"hidden_fields": ["Store!"]},
            "hidden_fields.0",
            "Use a lower-case letter, then letters, digits or underscores (at most 40).",
        ),
        ({"hidden_fields": ["store", "store"]}, "hidden_fields.1", "Named twice."),
        ({"mode": "twice"}, "mode", '"twice" is not a valid choice.'),
    ],
)
def test_a_link_that_cannot_be_made_is_refused_and_nothing_is_stored(
    server_client, survey, touchpoint, body, field, message
):
    reply = _create(server_client, survey, **body)
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"][field] == [message]
    assert SurveyLink.objects.count() == 0


def test_a_closed_survey_takes_no_new_link(server_client, survey):
    server_client.post(f"/api/v1/surveys/{survey.pk}/close")
    reply = _create(server_client, survey)
    assert reply.status_code == 400
    assert reply.json()["error"]["fields"] == {"survey": ["A closed survey takes no more answers."]}


def _decoded(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    found = zxingcpp.read_barcodes(image)
    assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
    return found[0].text


def test_the_qr_codes_hold_the_links_public_address(server_client, survey):
    link_id = _create(server_client, survey).json()["id"]
    link = SurveyLink.objects.get(pk=link_id)
    png = server_client.get(f"/api/v1/surveys/{survey.pk}/links/{link_id}/qr.png")
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png["Content-Disposition"] == f'attachment; filename="survey-link-{link_id}.png"'
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert _decoded(png.content) == f"{BASE}/l/{link.token}/"
    # An image client asking for the picture gets it too.
    asked = server_client.get(
        f"/api/v1/surveys/{survey.pk}/links/{link_id}/qr.png", HTTP_ACCEPT="image/png"
    )
    assert (asked.status_code, asked.content) == (200, png.content)

    svg = server_client.get(f"/api/v1/surveys/{survey.pk}/links/{link_id}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    text = svg.content.decode()
    assert text.startswith("<?xml") and "<svg" in text and "<path" in text
    assert f"<title>{BASE}/l/{link.token}/</title>" in text


def _session(user, project) -> APIClient:
    client = APIClient()
    client.force_login(user)
    client.defaults["HTTP_X_PROJECT"] = str(project.pk)
    return client


def _member(project, role):
    user = UserFactory(username=f"{role}-{project.pk}")
    MembershipFactory(user=user, project=project, role=role)
    return user


@pytest.mark.parametrize(
    ("role", "may_read", "may_change"),
    [
        ("admin", True, True),
        ("designer", True, True),
        ("agent", True, False),
        ("viewer", True, False),
    ],
)
def test_roles_through_the_api_and_the_page(project, survey, role, may_read, may_change):
    user = _member(project, role)
    api = _session(user, project)
    assert (api.get(f"/api/v1/surveys/{survey.pk}/links").status_code == 200) is may_read
    created = _create(api, survey)
    assert created.status_code == (201 if may_change else 403)
    page = Client()
    page.force_login(user)
    assert page.get(f"/app/surveys/{survey.pk}/links/").status_code == (200 if may_change else 403)
    posted = page.post(
        f"/app/surveys/{survey.pk}/links/",
        {"label": "Counter", "channel": "store", "touchpoint": "", "mode": "anonymous"},
    )
    assert posted.status_code == (302 if may_change else 403)
    assert SurveyLink.objects.count() == (2 if may_change else 0)


def test_one_project_never_sees_or_changes_anothers_links(project, survey, server_client):
    theirs = ProjectFactory(name="Other shop")
    their_survey = published_survey(
        theirs, touchpoints=[TouchpointFactory(project=theirs, key="checkout_completed")]
    )
    their_client = APIClient()
    their_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=theirs).raw}")
    their_link = _create(their_client, their_survey, label="Their counter").json()
    mine = _create(server_client, survey).json()

    base = f"/api/v1/surveys/{their_survey.pk}/links"
    assert server_client.get(base).status_code == 404
    assert _create(server_client, their_survey).status_code == 404
    for path in ("", "/qr.png", "/qr.svg"):
        assert server_client.get(f"{base}/{their_link['id']}{path}").status_code == 404
    assert server_client.post(f"{base}/{their_link['id']}/deactivate").status_code == 404
    # Their link through my survey's address is not found either.
    assert (
        server_client.get(f"/api/v1/surveys/{survey.pk}/links/{their_link['id']}").status_code
        == 404
    )
    assert [
        row["id"] for row in server_client.get(f"/api/v1/surveys/{survey.pk}/links").json()
    ] == [mine["id"]]
    assert SurveyLink.objects.get(pk=their_link["id"]).active is True

    admin = _member(project, "admin")
    page = Client()
    page.force_login(admin)
    assert page.get(f"/app/surveys/{their_survey.pk}/links/").status_code == 404
    assert page.get(f"/app/surveys/{survey.pk}/links/{their_link['id']}/qr.png").status_code == 404
    assert (
        page.post(
            f"/app/surveys/{their_survey.pk}/links/{their_link['id']}/deactivate/"
        ).status_code
        == 404
    )
    assert "Their counter" not in page.get(f"/app/surveys/{survey.pk}/links/").content.decode()


def test_the_staff_page_lists_creates_downloads_and_deactivates(project, survey, touchpoint):
    admin = _member(project, "admin")
    page = Client()
    page.force_login(admin)
    assert 'id="survey-links"' in page.get(f"/app/surveys/{survey.pk}/").content.decode()
    created = page.post(
        f"/app/surveys/{survey.pk}/links/",
        {
            "label": "Shanghai receipts",
            "channel": "receipt",
            "touchpoint": touchpoint.key,
            "hidden_fields": "store, region",
            "mode": "anonymous",
        },
    )
    assert created.status_code == 302
    link = SurveyLink.objects.get()
    assert (link.label, link.channel, link.touchpoint, link.hidden_fields, link.mode) == (
        "Shanghai receipts",
        "receipt",
        touchpoint,
        ["store", "region"],
        "anonymous",
    )
    html = page.get(f"/app/surveys/{survey.pk}/links/").content.decode()
    assert f"{BASE}/l/{link.token}/" in html
    assert f"/app/surveys/{survey.pk}/links/{link.pk}/qr.png" in html
    assert "(not a breakdown)" in html  # store and region are not breakdown attributes
    png = page.get(f"/app/surveys/{survey.pk}/links/{link.pk}/qr.png")
    assert (png["Content-Type"], _decoded(png.content)) == ("image/png", f"{BASE}/l/{link.token}/")
    svg = page.get(f"/app/surveys/{survey.pk}/links/{link.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert page.get(f"/app/surveys/{survey.pk}/links/{link.pk}/qr.gif").status_code == 404

    refused = page.post(
        f"/app/surveys/{survey.pk}/links/",
        {"label": "Bad", "channel": "store", "hidden_fields": "lang", "mode": "anonymous"},
    )
    assert refused.status_code == 422
    assert "This name is used by the survey page itself." in refused.content.decode()
    assert SurveyLink.objects.count() == 1

    off = page.post(f"/app/surveys/{survey.pk}/links/{link.pk}/deactivate/")
    assert off.status_code == 302
    link.refresh_from_db()
    assert link.active is False
    assert page.get(f"/app/surveys/{survey.pk}/links/{link.pk}/deactivate/").status_code == 405
