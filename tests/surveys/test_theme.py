"""The accent colour: a project's set in Settings, a survey's own over it (off: the project's),
both refused unless #rrggbb, and drawn where customers see them — the widget's config and
survey payload (with a text colour that stays readable), the hosted e-mail survey page and the
designer's preview, which speaks the previewed language."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from surveys.delivery.email_surveys import survey_token
from surveys.delivery.events import EventIn, event_record
from surveys.delivery.models import Invitation
from surveys.design.forms import SurveySettingsForm
from surveys.design.models import Survey
from surveys.tenancy.models import AuditEntry
from surveys.tenancy.theme import contrast, text_color_on, theme_colors
from tests.factories import ContactFactory, ProjectFactory, published_survey
from tests.surveys import test_designer_pages, test_settings_pages
from tests.surveys.test_designer_pages import create_from, post_data
from tests.surveys.test_settings_pages import settings_post

pytestmark = pytest.mark.django_db
# The signed-in designer and admin of the designer's and the settings' tests.
designer = test_designer_pages.designer
admin = test_settings_pages.admin
COLOR_PROBLEM = "A colour written #rrggbb, e.g. #4f46e5."


# ---------------------------------------------------------------- the rule (pure)


def test_the_text_on_the_accent_is_whichever_of_white_and_dark_reads_better():
    assert contrast("#000000", "#ffffff") == 21.0
    assert round(contrast("#2563eb", "#ffffff"), 2) == 5.17
    assert [text_color_on(c) for c in ("#2563eb", "#0a7d3b", "#4f46e5", "#000000")] == [
        "#ffffff"
    ] * 4
    assert [text_color_on(c) for c in ("#facc15", "#ffffff", "#a3e635", "#38bdf8")] == [
        "#111827"
    ] * 4


def test_a_survey_takes_its_own_colour_else_its_projects_else_the_default():
    project = {"primary_color": "#0a7d3b"}
    assert theme_colors({"primary_color": "#facc15"}, project) == {
        "primary_color": "#facc15",
        "text_color": "#111827",
    }
    assert theme_colors({}, project) == {"primary_color": "#0a7d3b", "text_color": "#ffffff"}
    assert theme_colors({}, {}) == {"primary_color": "#2563eb", "text_color": "#ffffff"}
    # A stored value that is not #rrggbb is never drawn (it would go into a style element).
    assert theme_colors({"primary_color": "red;}body{x"}, None)["primary_color"] == "#2563eb"


# ---------------------------------------------------------------- the project's colour


def test_the_project_colour_is_set_in_settings_audited_and_sent_to_the_widget(admin, project):
    page = admin.get("/app/settings/").content.decode()
    assert 'type="color" name="theme" value="#2563eb"' in page  # the default, until set

    reply = admin.post("/app/settings/", settings_post(project, theme="#0A7D3B"))
    assert reply.status_code == 302
    project.refresh_from_db()
    assert project.theme == {"primary_color": "#0a7d3b"}
    entry = AuditEntry.objects.get(action="project.updated")
    assert (entry.before["theme"], entry.after["theme"]) == ({}, {"primary_color": "#0a7d3b"})
    assert 'name="theme" value="#0a7d3b"' in admin.get("/app/settings/").content.decode()

    config = Client().get(f"/api/widget/v1/config?key={project.public_key}").json()
    assert config["theme"] == {"primary_color": "#0a7d3b", "text_color": "#ffffff"}


@pytest.mark.parametrize("bad", ["#0a7d3", "0a7d3b", "#0a7d3bff", "red", "#0a7d3g"])
def test_a_project_colour_that_is_not_rrggbb_is_refused_beside_its_field(admin, project, bad):
    project.theme = {"primary_color": "#0a7d3b"}
    project.save()
    reply = admin.post("/app/settings/", settings_post(project, theme=bad, recontact_days=30))
    assert reply.status_code == 200
    form = reply.context["settings_form"]
    assert form.errors == {"theme": [COLOR_PROBLEM]}
    project.refresh_from_db()
    assert (project.theme, project.recontact_days) == ({"primary_color": "#0a7d3b"}, 7)
    assert not AuditEntry.objects.filter(action="project.updated").exists()


def test_only_admins_set_the_project_colour(designer, project):
    reply = designer.post("/app/settings/", settings_post(project, theme="#facc15"))
    assert reply.status_code == 403
    project.refresh_from_db()
    assert project.theme == {}


# ---------------------------------------------------------------- a survey's own colour


def test_an_untouched_colour_input_no_longer_saves_black(designer, project):
    project.theme = {"primary_color": "#0a7d3b"}
    project.save()
    survey = create_from(designer, "nps")
    form = SurveySettingsForm(initial=SurveySettingsForm.initial_for(survey), project=project)
    assert (form["own_color"].value(), form["theme_color"].value()) == (False, "#0a7d3b")
    # Escaped where declared: crispy renders help texts as HTML.
    assert form.fields["own_color"].help_text == (
        "Off: the project&#x27;s colour, #0a7d3b (Settings)."
    )

    # What a browser sends for a colour input nobody touched: black.
    reply = designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, theme_color="#000000"))
    assert reply.status_code == 302
    survey.refresh_from_db()
    assert survey.theme == {}


def test_a_survey_colour_of_its_own_is_saved_and_switched_off_again(designer, project):
    survey = create_from(designer, "nps")
    data = post_data(survey, own_color=True, theme_color="#FACC15")
    assert designer.post(f"/app/surveys/{survey.pk}/", data).status_code == 302
    survey.refresh_from_db()
    assert survey.theme == {"primary_color": "#facc15"}
    page = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    assert re.search(r'type="checkbox" name="own_color"[^>]* checked', page)
    assert 'name="theme_color" value="#facc15"' in page

    data = post_data(survey, own_color=False)
    assert designer.post(f"/app/surveys/{survey.pk}/", data).status_code == 302
    survey.refresh_from_db()
    assert survey.theme == {}


@pytest.mark.parametrize(
    ("color", "problem"),
    [("#fac", COLOR_PROBLEM), ("yellow", COLOR_PROBLEM), ("", "Pick the survey's colour.")],
)
def test_a_bad_survey_colour_is_refused_beside_its_field(designer, project, color, problem):
    survey = create_from(designer, "nps")
    data = post_data(survey, own_color=True, theme_color=color, name="Renamed")
    reply = designer.post(f"/app/surveys/{survey.pk}/", data)
    assert reply.status_code == 422
    assert reply.context["form"].errors == {"theme_color": [problem]}
    survey.refresh_from_db()
    assert (survey.name, survey.theme) == ("Relationship NPS", {})


def test_the_api_takes_a_survey_colour_and_refuses_anything_else_with_400(
    server_client, designer, project
):
    survey = create_from(designer, "nps")
    url = f"/api/v1/surveys/{survey.pk}"
    for theme, field in (
        ({"primary_color": "red"}, "theme.primary_color"),
        ({"primary_color": "#12345"}, "theme.primary_color"),
        ({"primary_color": ""}, "theme.primary_color"),
        ({"accent": "#123456"}, "theme.accent"),
    ):
        reply = server_client.patch(url, {"theme": theme, "priority": 5}, format="json")
        assert reply.status_code == 400, theme
        assert list(reply.json()["error"]["fields"]) == [field]
    survey.refresh_from_db()
    assert (survey.theme, survey.priority) == ({}, 0)

    reply = server_client.patch(url, {"theme": {"primary_color": "#facc15"}}, format="json")
    assert reply.status_code == 200
    assert reply.json()["theme"] == {"primary_color": "#facc15"}
    reply = server_client.patch(url, {"theme": {}}, format="json")  # back to the project's
    assert (reply.status_code, reply.json()["theme"]) == (200, {})


def test_another_projects_survey_colour_is_out_of_reach(server_client, project):
    other = ProjectFactory()
    theirs = published_survey(other, theme={"primary_color": "#0a7d3b"})
    reply = server_client.patch(
        f"/api/v1/surveys/{theirs.pk}", {"theme": {"primary_color": "#facc15"}}, format="json"
    )
    assert reply.status_code == 404
    theirs.refresh_from_db()
    assert theirs.theme == {"primary_color": "#0a7d3b"}


# ---------------------------------------------------------------- where customers see it


def test_decide_sends_the_survey_colour_over_the_projects(widget, project, touchpoint):
    project.theme = {"primary_color": "#0a7d3b"}
    project.save()
    published_survey(project, touchpoints=[touchpoint], theme={"primary_color": "#facc15"})
    body = {"key": project.public_key, "visitor_id": "v-1", "touchpoint": touchpoint.key}
    reply = widget.post("/api/widget/v1/decide", body, format="json").json()
    assert reply["survey"]["theme"] == {"primary_color": "#facc15", "text_color": "#111827"}
    config = widget.get(f"/api/widget/v1/config?key={project.public_key}").json()
    assert config["theme"] == {"primary_color": "#0a7d3b", "text_color": "#ffffff"}


@pytest.mark.parametrize(
    ("survey_theme", "style"),
    [
        ({"primary_color": "#facc15"}, ":root { --brand: #facc15; --brand-text: #111827; }"),
        ({}, ":root { --brand: #0a7d3b; --brand-text: #ffffff; }"),
    ],
)
def test_the_hosted_page_draws_with_the_payloads_colours(
    project, touchpoint, survey_theme, style, django_capture_on_commit_callbacks
):
    project.theme = {"primary_color": "#0a7d3b"}
    project.save()
    published_survey(project, touchpoints=[touchpoint], channels=["email"], theme=survey_theme)
    ContactFactory(project=project, user_id="c-1", email="c1@example.com", language="en")
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes out on commit
        event_record(project=project, data=EventIn(event=touchpoint.key, user_id="c-1"))
    token = survey_token(Invitation.objects.get(contact__user_id="c-1").display)
    page = Client().get(f"/s/{token}/").content.decode()
    assert re.findall(r"<style nonce=\"[^\"]+\">(.*?)</style>", page) == [style]


def test_the_preview_speaks_the_previewed_language_in_the_unsaved_colour(designer, project):
    survey = create_from(designer, "nps")
    data = post_data(survey, own_color=True, theme_color="#facc15")
    reply = designer.post(f"/app/surveys/{survey.pk}/preview/", data)
    assert reply.status_code == 200
    previews = reply.json()
    chrome = ("next", "submit", "close", "optout", "low", "high", "thanks")
    assert [previews["zh"]["texts"][name] for name in chrome] == [
        "下一步",
        "提交",
        "关闭",
        "不再询问我",
        "不太可能",
        "非常可能",
        "谢谢您的反馈！",
    ]
    assert previews["en"]["texts"]["next"] == "Next"
    for language in ("en", "zh"):
        assert previews[language]["theme"] == {"primary_color": "#facc15", "text_color": "#111827"}
    survey.refresh_from_db()
    assert survey.theme == {}  # previewed, not saved


def test_the_saved_drafts_preview_carries_the_projects_colour(designer, project):
    project.theme = {"primary_color": "#0a7d3b"}
    project.save()
    survey = create_from(designer, "nps")
    previews = designer.get(f"/app/surveys/{survey.pk}/").context["previews"]
    assert previews["zh"]["theme"] == {"primary_color": "#0a7d3b", "text_color": "#ffffff"}
    assert previews["zh"]["texts"]["submit"] == "提交"


def test_another_projects_survey_cannot_be_previewed(designer, project):
    theirs = published_survey(ProjectFactory())
    reply = designer.post(f"/app/surveys/{theirs.pk}/preview/", post_data(theirs))
    assert reply.status_code == 404
    assert Survey.objects.get(pk=theirs.pk).theme == {}
