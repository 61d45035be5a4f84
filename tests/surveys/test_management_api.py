"""Management API for touchpoints and surveys: the §6 shapes, validation, roles, isolation."""

import pytest
from rest_framework.test import APIClient

from surveys.design.models import Survey, SurveyVersion
from surveys.tenancy.models import AuditEntry
from surveys.tenancy.services import api_key_create
from tests.factories import MembershipFactory, ProjectFactory, TouchpointFactory, UserFactory

NPS_SURVEY = {
    "name": "Checkout NPS",
    "touchpoints": ["checkout_completed"],
    "display_option": "until_responded",
    "recontact_days": 30,
    "sample_percent": 50,
    "delay_seconds": 3,
    "priority": 2,
    "questions": [
        {"type": "nps", "text": {"en": "How likely…?", "zh": "您推荐的可能性？"}},
        {
            "type": "text",
            "text": {"en": "What could we do better?", "zh": "我们可以在哪些方面做得更好？"},
            "required": False,
            "show_if": {"question": 0, "min": 0, "max": 6},
        },
    ],
}


@pytest.mark.django_db
def test_touchpoint_create_and_list(server_client, project):
    created = server_client.post(
        "/api/v1/touchpoints",
        {"key": "checkout_completed", "name": "Checkout", "channel": "web"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json() | {"id": 0} == {
        "id": 0,
        "key": "checkout_completed",
        "name": "Checkout",
        "stage": None,
        "channel": "web",
        "description": "",
        "position": 0,
        "retired": False,
        "retired_at": None,
    }
    again = server_client.post(
        "/api/v1/touchpoints", {"key": "checkout_completed", "name": "X"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["error"]["fields"] == {
        "key": ["A touchpoint with this key already exists."]
    }
    listed = server_client.get("/api/v1/touchpoints").json()
    assert [t["key"] for t in listed] == ["checkout_completed"]


@pytest.mark.django_db
def test_survey_create_then_publish_makes_a_version(server_client, project, touchpoint):
    created = server_client.post("/api/v1/surveys", NPS_SURVEY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "draft"
    assert body["version"] is None
    assert body["touchpoints"] == ["checkout_completed"]
    assert body["sample_percent"] == 50.0
    assert [q["type"] for q in body["questions"]] == ["nps", "text"]
    assert body["questions"][0]["scale"] == {"min": 0, "max": 10}

    published = server_client.post(f"/api/v1/surveys/{body['id']}/publish")
    assert published.status_code == 200
    assert published.json() == {"id": body["id"], "status": "active", "version": 1}
    version = SurveyVersion.objects.get(survey_id=body["id"])
    questions = version.snapshot["questions"]
    assert questions[1]["show_if"] == {"question_id": questions[0]["id"], "min": 0, "max": 6}
    assert version.questions.count() == 2
    assert AuditEntry.objects.filter(project=project, action="survey.published").count() == 1


@pytest.mark.django_db
def test_editing_a_live_survey_keeps_the_published_version(server_client, project, touchpoint):
    survey_id = server_client.post("/api/v1/surveys", NPS_SURVEY, format="json").json()["id"]
    server_client.post(f"/api/v1/surveys/{survey_id}/publish")
    patched = server_client.patch(
        f"/api/v1/surveys/{survey_id}",
        {
            "questions": [
                {"type": "csat", "text": {"en": "Satisfied?"}, "scale": {"min": 1, "max": 5}}
            ]
        },
        format="json",
    )
    assert patched.status_code == 200
    assert patched.json()["has_unpublished_changes"] is True
    survey = Survey.objects.get(pk=survey_id)
    assert [q["type"] for q in survey.current_version.snapshot["questions"]] == ["nps", "text"]
    assert server_client.post(f"/api/v1/surveys/{survey_id}/publish").json()["version"] == 2
    survey.refresh_from_db()
    assert [q["type"] for q in survey.current_version.snapshot["questions"]] == ["csat"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NPS_SURVEY, "questions": []}, "questions"),
        ({**NPS_SURVEY, "sample_percent": 120}, "sample_percent"),
        ({**NPS_SURVEY, "sample_percent": "lots"}, "sample_percent"),
        ({**NPS_SURVEY, "touchpoints": ["nope"]}, "touchpoints"),
        ({**NPS_SURVEY, "recontact_days": 1}, "recontact_days"),
        ({**NPS_SURVEY, "display_option": "limited"}, "display_limit"),
        (
            {
                **NPS_SURVEY,
                "questions": [{"type": "csat", "text": {"en": "?"}, "scale": {"min": 1, "max": 6}}],
            },
            "questions.0.scale",
        ),
        (
            {
                **NPS_SURVEY,
                "questions": [
                    {"type": "single_choice", "text": {"en": "?"}, "choices": [{"en": "only"}]}
                ],
            },
            "questions.0.choices",
        ),
        (
            {
                **NPS_SURVEY,
                "questions": [
                    {
                        "type": "text",
                        "text": {"en": "?"},
                        "show_if": {"question": 3, "min": 0, "max": 6},
                    }
                ],
            },
            "questions.0.show_if",
        ),
        ({**NPS_SURVEY, "questions": [{"type": "bogus", "text": {"en": "?"}}]}, "questions.0.type"),
        ({**NPS_SURVEY, "name": "n" * 201}, "name"),
        ({"questions": "nope"}, "name"),
    ],
)
def test_bad_survey_input_is_a_400_with_the_field_named(server_client, touchpoint, body, field):
    response = server_client.post("/api/v1/surveys", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert Survey.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b'{"key": "a", "name":', "application/json", 400, "malformed_request"),
        (b"[1, 2, 3]", "application/json", 400, "invalid"),
        (b'{"key": 5, "name": ["x"], "channel": {}}', "application/json", 400, "invalid"),
        (b"\xff\xfe\x00", "application/json", 400, "malformed_request"),
        (b"key=a&name=b", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_malformed_json_and_wrong_types_get_the_error_body_never_a_500(
    server_client, raw, content_type, status, code
):
    response = server_client.generic("POST", "/api/v1/touchpoints", raw, content_type=content_type)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code


@pytest.mark.django_db
def test_an_oversized_body_is_413_not_500(server_client):
    response = server_client.generic(
        "POST",
        "/api/v1/touchpoints",
        b'{"name": "' + b"x" * 3_000_000 + b'"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


@pytest.mark.django_db
def test_missing_or_wrong_credentials_are_401(api_client, project):
    assert api_client.get("/api/v1/surveys").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer sk_not-a-real-key")
    response = api_client.get("/api/v1/surveys")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {project.public_key}")
    assert api_client.get("/api/v1/surveys").status_code == 401


@pytest.mark.django_db
def test_revoked_key_is_refused(api_client, project):
    from surveys.tenancy.services import api_key_revoke

    created = api_key_create(project=project)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.raw}")
    assert api_client.get("/api/v1/surveys").status_code == 200
    api_key_revoke(api_key=created.api_key)
    assert api_client.get("/api/v1/surveys").status_code == 401


@pytest.mark.django_db
def test_project_a_key_never_sees_or_changes_project_b(server_client, project, touchpoint):
    other = ProjectFactory()
    other_tp = TouchpointFactory(project=other, key="b_only")
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(project=other).raw}")
    survey_id = other_client.post(
        "/api/v1/surveys", {**NPS_SURVEY, "touchpoints": [other_tp.key]}, format="json"
    ).json()["id"]

    assert server_client.get("/api/v1/surveys").json() == []
    assert [t["key"] for t in server_client.get("/api/v1/touchpoints").json()] == [
        "checkout_completed"
    ]
    assert server_client.get(f"/api/v1/surveys/{survey_id}").status_code == 404
    assert (
        server_client.patch(
            f"/api/v1/surveys/{survey_id}", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert server_client.post(f"/api/v1/surveys/{survey_id}/publish").status_code == 404
    # A touchpoint key of B is unknown in A.
    response = server_client.post(
        "/api/v1/surveys", {**NPS_SURVEY, "touchpoints": ["b_only"]}, format="json"
    )
    assert response.status_code == 400
    assert Survey.objects.get(pk=survey_id).name == "Checkout NPS"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "can_write"),
    [("admin", True), ("designer", True), ("agent", False), ("viewer", False)],
)
def test_session_roles_on_design_endpoints(project, touchpoint, role, can_write):
    user = UserFactory()
    MembershipFactory(user=user, project=project, role=role)
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/surveys").status_code == 200
    response = client.post("/api/v1/surveys", NPS_SURVEY, format="json")
    assert response.status_code == (201 if can_write else 403)
    assert Survey.objects.count() == (1 if can_write else 0)


@pytest.mark.django_db
def test_session_user_cannot_pick_a_project_they_are_not_a_member_of(project):
    other = ProjectFactory()
    user = UserFactory()
    MembershipFactory(user=user, project=project, role="admin")
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/surveys", HTTP_X_PROJECT=str(other.pk)).status_code == 403
    assert client.get("/api/v1/surveys", HTTP_X_PROJECT=str(project.pk)).status_code == 200
