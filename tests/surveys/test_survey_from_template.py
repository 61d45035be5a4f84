"""“Use template” asks the new survey's name, offering the template's, and refuses none."""

from __future__ import annotations

import re

import pytest

from surveys.design.models import Survey
from surveys.tenancy.models import AuditEntry
from tests.factories import ProjectFactory
from tests.surveys import test_designer_pages

pytestmark = pytest.mark.django_db
# The signed-in designer of the designer's tests.
designer = test_designer_pages.designer


def test_each_template_asks_the_name_offering_its_own(designer):
    page = designer.get("/app/surveys/").content.decode()
    fields = re.findall(r'<input type="text" name="name" id="([^"]+)" value="([^"]*)"', page)
    assert fields == [
        ("new-nps-name", "Relationship NPS"),
        ("new-csat_support-name", "Support CSAT"),
        ("new-ces_checkout-name", "Checkout effort"),
        ("new-churn_exit-name", "Cancellation reasons"),
        ("new-blank-name", "New survey"),
    ]
    assert '<label class="form-label small mb-0" for="new-nps-name">Survey name</label>' in page


def test_the_survey_gets_the_name_given(designer, project):
    reply = designer.post("/app/surveys/new/", {"template": "nps", "name": "  Shop NPS  "})
    survey = Survey.objects.get(project=project)
    assert reply.status_code == 302
    assert reply["Location"] == f"/app/surveys/{survey.pk}/"
    assert (survey.name, survey.template, survey.status) == ("Shop NPS", "nps", "draft")
    entry = AuditEntry.objects.get(action="survey.created")
    assert entry.after["name"] == "Shop NPS"


@pytest.mark.parametrize("sent", [{"name": ""}, {"name": "   "}, {}])
def test_a_survey_without_a_name_is_refused_beside_its_template(designer, project, sent):
    reply = designer.post("/app/surveys/new/", {"template": "churn_exit", **sent})
    assert reply.status_code == 400
    page = reply.content.decode()
    assert re.findall(r'id="(new-[a-z_]+-name)-error">([^<]*)<', page) == [
        ("new-churn_exit-name", "Give the survey a name.")
    ]
    typed = sent.get("name", "")
    assert f'name="name" id="new-churn_exit-name" value="{typed}"' in page  # as typed
    assert 'name="name" id="new-nps-name" value="Relationship NPS"' in page  # others untouched
    assert not Survey.objects.exists()


def test_an_unknown_template_or_an_overlong_name_is_refused(designer):
    reply = designer.post("/app/surveys/new/", {"template": "nope", "name": "X"})
    assert reply.status_code == 400
    assert "Choose one of the templates." in reply.content.decode()
    reply = designer.post("/app/surveys/new/", {"template": "nps", "name": "x" * 201})
    assert reply.status_code == 400
    assert "Ensure this value has at most 200 characters (it has 201)." in reply.content.decode()
    assert not Survey.objects.exists()


def test_the_new_survey_belongs_to_the_designers_project_only(designer, project):
    other = ProjectFactory()
    designer.post("/app/surveys/new/", {"template": "nps", "name": "Mine"})
    assert list(Survey.objects.values_list("project_id", "name")) == [(project.pk, "Mine")]
    assert not Survey.objects.filter(project=other).exists()
    assert "Mine" in designer.get("/app/surveys/").content.decode()
