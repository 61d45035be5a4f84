"""The foundation: error body, OpenAPI, operations commands, model constraints."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from feedback.answering.models import Answer, Response
from feedback.cases.models import AlertRule
from surveys.journey.models import Touchpoint
from surveys.tenancy.models import ApiKey, Project, hash_secret_key
from tests.factories import ContactFactory, published_survey


@pytest.mark.django_db
def test_create_project_prints_one_json_line_and_stores_only_the_hash():
    out = StringIO()
    call_command(
        "create_project", "Acme", "--origin", "https://acme.example", "--language", "zh", stdout=out
    )
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"project_id", "public_key", "secret_key", "identity_secret"}
    assert data["identity_secret"] == Project.objects.get(pk=data["project_id"]).identity_secret
    project = Project.objects.get(pk=data["project_id"])
    assert project.public_key == data["public_key"]
    assert project.allowed_origins == ["https://acme.example"]
    assert project.languages == ["zh"]
    key = ApiKey.objects.get(project=project)
    assert key.key_hash == hash_secret_key(data["secret_key"])
    assert data["secret_key"] not in {key.key_hash, key.prefix}
    assert AlertRule.objects.filter(project=project).count() == 3


def test_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files, never a CDN (the product works offline).
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


@pytest.mark.django_db
def test_touchpoint_key_is_unique_per_project(project):
    Touchpoint.objects.create(project=project, key="checkout", name="Checkout")
    with pytest.raises(IntegrityError), transaction.atomic():
        Touchpoint.objects.create(project=project, key="checkout", name="Again")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("question_type", "value", "ok"),
    [
        ("nps", 10, True),
        ("nps", 11, False),
        ("nps", -1, False),
        ("csat", 0, False),
        ("ces", 7, True),
    ],
)
def test_answer_scores_are_range_checked_by_the_database(project, question_type, value, ok):
    survey = published_survey(project)
    question = survey.current_version.questions.get(position=0)
    response = Response.objects.create(
        project=project,
        survey=survey,
        version=survey.current_version,
        contact=ContactFactory(project=project),
        submission_id="5b0c0f5e-7a43-4a3e-9a4c-2b8f1f1d0e01",
    )
    create = lambda: Answer.objects.create(  # noqa: E731
        response=response, question=question, question_type=question_type, value_int=value
    )
    if ok:
        create()
        assert Answer.objects.get(response=response).value_int == value
    else:
        with pytest.raises(IntegrityError), transaction.atomic():
            create()
