"""The survey designer as the CX team uses it: templates, questions added, reordered and
removed, translations, errors beside their fields, publish/pause/resume/close, roles."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from surveys.design.forms import QuestionForm, SurveySettingsForm
from surveys.design.models import Survey
from surveys.design.services import survey_update
from surveys.design.survey_templates import TEMPLATES
from tests.factories import MembershipFactory, TouchpointFactory, UserFactory
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db
LANGS = ["en", "zh"]


@pytest.fixture
def designer(project):
    user = UserFactory(username="designer")
    MembershipFactory(user=user, project=project, role="designer")
    client = Client()
    client.force_login(user)
    return client


def post_data(survey: Survey, questions: list[dict] | None = None, **settings) -> dict:
    """What the designer page posts: the survey as it stands, with changes applied."""
    initial = SurveySettingsForm.initial_for(survey)
    data: dict = {}
    for name, value in {**initial, **settings}.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value)
    if questions is None:
        drafts = survey.questions.filter(version__isnull=True).order_by("position")
        questions = [QuestionForm.initial_for(q, LANGS) for q in drafts]
    data["q-TOTAL_FORMS"] = str(len(questions))
    data["q-INITIAL_FORMS"] = str(sum(1 for q in questions if not q.get("_new")))
    data["q-MIN_NUM_FORMS"] = "0"
    data["q-MAX_NUM_FORMS"] = "10"
    for index, question in enumerate(questions):
        for name, value in question.items():
            if name == "_new" or value is None or value is False:
                continue
            data[f"q-{index}-{name}"] = "on" if value is True else str(value)
        data.setdefault(f"q-{index}-ORDER", str(index + 1))
    return data


def create_from(designer, template: str) -> Survey:
    reply = designer.post(
        "/app/surveys/new/", {"template": template, "name": TEMPLATES[template].name}
    )
    assert reply.status_code == 302
    return Survey.objects.get(pk=int(reply["Location"].rstrip("/").split("/")[-1]))


def test_each_template_makes_a_valid_draft(designer):
    for key, name, first_type in [
        ("nps", "Relationship NPS", "nps"),
        ("csat_support", "Support CSAT", "csat"),
        ("ces_checkout", "Checkout effort", "ces"),
        ("churn_exit", "Cancellation reasons", "single_choice"),
        ("blank", "New survey", "text"),
    ]:
        survey = create_from(designer, key)
        first = survey.questions.order_by("position").first()
        assert (survey.name, survey.status, survey.template, first.type) == (
            name,
            "draft",
            key,
            first_type,
        )
        assert set(first.text) == {"en", "zh"}


def test_add_reorder_translate_and_remove_questions(designer, project):
    TouchpointFactory(project=project, key="checkout_completed", name="Checkout")
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    why["text_zh"] = "为什么？"
    why["ORDER"] = 3
    new = {
        "_new": True,
        "type": "single_choice",
        "required": True,
        "text_en": "Which plan are you on?",
        "choices_en": "Free\nPro",
        "choices_zh": "免费\n专业",
        "ORDER": 2,
    }
    data = post_data(survey, [nps, why, new], touchpoints=["checkout_completed"])
    page = designer.post(f"/app/surveys/{survey.pk}/", data)
    assert page.status_code == 302, page.content.decode()[:3000]
    drafts = list(survey.questions.filter(version__isnull=True).order_by("position"))
    assert [q.type for q in drafts] == ["nps", "single_choice", "text"]
    assert drafts[1].choices == [
        {"id": "c1", "text": {"en": "Free", "zh": "免费"}},
        {"id": "c2", "text": {"en": "Pro", "zh": "专业"}},
    ]
    assert drafts[2].text["zh"] == "为什么？"
    assert list(survey.touchpoints.values_list("key", flat=True)) == ["checkout_completed"]

    again = [QuestionForm.initial_for(q, LANGS) for q in drafts]
    again[1]["DELETE"] = True
    page = designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, again))
    assert page.status_code == 302
    assert list(
        survey.questions.filter(version__isnull=True)
        .order_by("position")
        .values_list("type", flat=True)
    ) == ["nps", "text"]


def test_errors_are_shown_beside_their_fields(designer, project):
    project.recontact_days = 30
    project.save()
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    why["show_if_question"], why["show_if_min"], why["show_if_max"] = 2, 0, 6  # itself: invalid
    page = designer.post(
        f"/app/surveys/{survey.pk}/", post_data(survey, [nps, why], recontact_days=3)
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "A survey may wait longer than the project&#x27;s 30-day cooldown" in html
    assert "show_if.question must be an earlier question&#x27;s position." in html
    assert html.rindex("show_if.question must be") > html.index('data-index="1"')
    # One summary at the top lists both, each linking to its field.
    summary = html[html.index('id="error-summary"') : html.index('id="question-list"')]
    assert "The draft was not saved: 2 problems to fix." in summary
    assert re.findall(r'<li><a class="alert-link" href="#([^"]+)">([^<]+)</a></li>', summary) == [
        (
            "div_id_q-1-show_if_question",
            "Question 2 · Only if question #: show_if.question must be an earlier "
            "question&#x27;s position.",
        ),
        (
            "div_id_recontact_days",
            "Wait between two showings (days): A survey may wait longer than the project&#x27;s "
            "30-day cooldown, never shorter (unless it bypasses the global cooldown).",
        ),
    ]
    assert 'id="div_id_q-1-show_if_question"' in html and 'id="div_id_recontact_days"' in html
    assert survey.questions.filter(version__isnull=True, show_if__isnull=False).count() == 0


def test_publish_pause_resume_close_and_drafts_leave_the_live_version_alone(designer):
    survey = create_from(designer, "csat_support")
    assert designer.post(f"/app/surveys/{survey.pk}/publish/").status_code == 302
    survey.refresh_from_db()
    assert (survey.status, survey.current_version.number) == ("active", 1)
    live_text = survey.current_version.snapshot["questions"][0]["text"]["en"]

    first, second = [
        QuestionForm.initial_for(q, LANGS)
        for q in survey.questions.filter(version__isnull=True).order_by("position")
    ]
    first["text_en"] = "How happy are you with our help?"
    assert (
        designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, [first, second])).status_code
        == 302
    )
    survey.refresh_from_db()
    assert survey.has_unpublished_changes is True
    assert survey.current_version.snapshot["questions"][0]["text"]["en"] == live_text

    for action, status in [("pause", "paused"), ("resume", "active"), ("publish", "active")]:
        designer.post(f"/app/surveys/{survey.pk}/{action}/")
        survey.refresh_from_db()
        assert survey.status == status
    assert survey.current_version.number == 2
    designer.post(f"/app/surveys/{survey.pk}/close/")
    survey.refresh_from_db()
    assert survey.status == "closed"
    assert designer.post(f"/app/surveys/{survey.pk}/explode/").status_code == 404


def test_the_designer_page_embeds_the_real_widget_for_the_preview(designer):
    survey = create_from(designer, "nps")
    html = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    assert "/static/widget/voc.js" in html
    assert '"zh": {"id": ' in html and "您向朋友或同事推荐我们的可能性有多大？" in html


def test_agents_and_viewers_cannot_design(project):
    for role in ("agent", "viewer"):
        user = UserFactory(username=role)
        MembershipFactory(user=user, project=project, role=role)
        client = Client()
        client.force_login(user)
        assert client.get("/app/surveys/").status_code == 403
        assert client.post("/app/surveys/new/", {"template": "nps", "name": "X"}).status_code == 403
    assert Survey.objects.count() == 0


def test_the_live_preview_shows_unsaved_edits_and_saves_nothing(designer):
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    nps["text_zh"] = "还没保存的问题"
    reply = designer.post(f"/app/surveys/{survey.pk}/preview/", post_data(survey, [nps, why]))
    assert reply.status_code == 200
    body = reply.json()
    assert body["zh"]["questions"][0]["text"] == "还没保存的问题"
    assert body["en"]["questions"][1]["type"] == "text"
    assert body["zh"]["delay_seconds"] == 0
    first = survey.questions.filter(version__isnull=True).order_by("position").first()
    assert first.text["zh"] == "您向朋友或同事推荐我们的可能性有多大？"  # nothing saved

    why["show_if_question"], why["show_if_min"], why["show_if_max"] = 2, 0, 6
    bad = designer.post(f"/app/surveys/{survey.pk}/preview/", post_data(survey, [nps, why]))
    assert bad.status_code == 422
    assert bad.json() == {"error": "show_if.question must be an earlier question's position."}


# The survey settings are declared once (surveys.design.survey_settings): the management API,
# the designer page and the services take the same names and refuse the same values.
BOUNDS = [
    ("display_limit", 1, 1000),
    ("recontact_days", 0, 3650),
    ("recurrence_days", 1, 3650),
    ("snooze_days_after_dismiss", 0, 3650),
    ("sample_percent", 0, 100),
    ("delay_seconds", 0, 3600),
    ("auto_close_seconds", 1, 3600),
    ("priority", -1000, 1000),
    ("response_cap", 1, 10_000_000),
]


@pytest.mark.parametrize(("name", "low", "high"), BOUNDS)
def test_a_setting_has_the_same_bounds_in_the_api_the_designer_and_the_services(
    server_client, designer, name, low, high
):
    survey = create_from(designer, "nps")
    allowed = {"bypass_global_cooldown": True}  # a recontact of 0 days needs it
    for value, status in ((low, 200), (high, 200), (low - 1, 400), (high + 1, 400)):
        reply = server_client.patch(
            f"/api/v1/surveys/{survey.pk}", {**allowed, name: value}, format="json"
        )
        assert reply.status_code == status, (value, reply.json())
        if status == 400:
            assert list(reply.json()["error"]["fields"]) == [name]

        page = designer.post(
            f"/app/surveys/{survey.pk}/", post_data(survey, **allowed, **{name: value})
        )
        assert page.status_code == (302 if status == 200 else 422), value

    with pytest.raises(ApplicationError) as refused:
        survey_update(survey=survey, **allowed, **{name: high + 1})
    assert refused.value.fields == {name: [f"Between {low} and {high}."]}


def draft_texts(survey: Survey) -> list[str]:
    return [
        q.text["en"] for q in survey.questions.filter(version__isnull=True).order_by("position")
    ]


def test_several_new_questions_are_added_in_one_save_and_a_removed_one_is_not(designer):
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    new = [
        {"_new": True, "type": "text", "required": True, "text_en": text, "ORDER": order}
        for text, order in (("First new", 1), ("Removed again", 2), ("Last new", 5))
    ]
    new[1]["DELETE"] = True
    why["ORDER"], nps["ORDER"] = 3, 4
    page = designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, [nps, why, *new]))
    assert page.status_code == 302, page.content.decode()[:3000]
    assert draft_texts(survey) == [
        "First new",
        "What is the main reason for your score?",
        "How likely are you to recommend us to a friend or colleague?",
        "Last new",
    ]


def test_a_failed_save_shows_the_questions_in_the_order_they_were_arranged(designer):
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    nps["ORDER"], why["ORDER"] = 2, 1
    new = {"_new": True, "type": "", "text_en": "No type chosen", "ORDER": 3}
    page = designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, [nps, why, new]))
    assert page.status_code == 422
    html = page.content.decode()
    shown = re.findall(r'<li class="question-form[^"]*" id="question-q-(\d)"', html)
    assert shown == ["1", "0", "2"]
    summary = html[html.index('id="error-summary"') : html.index('id="question-list"')]
    assert (
        '<a class="alert-link" href="#div_id_q-2-type">Question 3 · Type: This field is required.'
        in summary
    )
    assert draft_texts(survey)[0] == "How likely are you to recommend us to a friend or colleague?"


def test_help_texts_show_their_syntax_literally(designer):
    survey = create_from(designer, "nps")
    html = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    assert "One rule per line: &lt;op&gt; &lt;text&gt;, op one of" in html
    assert "One rule per line: &lt;attribute&gt; &lt;op&gt; &lt;value&gt;" in html
    assert "<op>" not in html and "<attribute>" not in html


def test_the_designer_adds_questions_from_a_template_of_the_empty_form(designer):
    survey = create_from(designer, "nps")
    html = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    template = html[html.index('<template id="question-template">') : html.index("</template>")]
    assert 'name="q-__prefix__-text_zh"' in template
    assert 'type="hidden" name="q-__prefix__-ORDER"' in template
    assert 'name="q-__prefix__-DELETE"' in template
    assert 'id="add-question" data-max="10"' in html
    assert '<input type="hidden" name="q-0-ORDER" value="1"' in html
    assert '<script src="/static/staff/designer.js"></script>' in html


def half_translated(designer) -> Survey:
    """An NPS draft whose follow-up question and new choices are in English only."""
    survey = create_from(designer, "nps")
    nps, why = [QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")]
    why["text_zh"] = ""
    plan = {
        "_new": True,
        "type": "single_choice",
        "required": True,
        "text_en": "Which plan?",
        "text_zh": "哪个套餐？",
        "choices_en": "Free\nPro",
        "choices_zh": "免费",
    }
    page = designer.post(
        f"/app/surveys/{survey.pk}/",
        post_data(survey, [nps, why, plan], thank_you_en="Thanks!", thank_you_zh=""),
    )
    assert page.status_code == 302
    return survey


def test_missing_translations_are_shown_and_publishing_refuses_them(designer):
    survey = half_translated(designer)
    html = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    notes = re.findall(r'<i class="bi bi-translate"></i> Not translated: ([^<]+)</p>', html)
    assert notes == ["text in Chinese", "choices in Chinese", "thank-you message in Chinese"]
    assert html.index("text in Chinese") > html.index('id="question-q-1"')

    page = designer.post(f"/app/surveys/{survey.pk}/publish/", follow=True)
    assert (
        "Translate before publishing: question 2: text in Chinese; question 3: choices in "
        "Chinese; thank-you message in Chinese." in page.content.decode()
    )
    survey.refresh_from_db()
    assert (survey.status, survey.current_version) == ("draft", None)


def test_the_api_refuses_to_publish_a_half_translated_survey(designer, server_client):
    survey = half_translated(designer)
    reply = server_client.post(f"/api/v1/surveys/{survey.pk}/publish")
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "missing_translation"
    assert reply.json()["error"]["fields"] == {
        "questions.1.text": ["Missing in Chinese."],
        "questions.2.choices": ["Missing in Chinese."],
        "thank_you": ["Missing in Chinese."],
    }
    assert survey.versions.count() == 0

    # Shown only to English speakers, the survey needs no Chinese.
    assert (
        server_client.patch(
            f"/api/v1/surveys/{survey.pk}", {"targeting": {"languages": ["en"]}}, format="json"
        ).status_code
        == 200
    )
    assert server_client.post(f"/api/v1/surveys/{survey.pk}/publish").json()["version"] == 1


def test_a_survey_written_in_one_language_only_publishes(server_client, project, touchpoint):
    created = server_client.post(
        "/api/v1/surveys",
        {
            "name": "English only",
            "touchpoints": [touchpoint.key],
            "questions": [{"type": "nps", "text": {"en": "Recommend us?"}}],
            "thank_you": {"en": "Thanks!"},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    published = server_client.post(f"/api/v1/surveys/{created.json()['id']}/publish")
    assert published.status_code == 200


def test_a_scales_end_labels_are_kept_edited_and_checked_for_translation(designer):
    """Saving the designer keeps the template's scale labels; edited ones are saved; a label in
    one language only is a missing translation."""
    survey = create_from(designer, "nps")
    assert designer.post(f"/app/surveys/{survey.pk}/", post_data(survey)).status_code == 302
    nps = survey.questions.filter(version__isnull=True).order_by("position").first()
    assert nps.labels == {
        "min": {"en": "Not likely", "zh": "不太可能"},
        "max": {"en": "Very likely", "zh": "非常可能"},
    }
    edited, why = [
        QuestionForm.initial_for(q, LANGS) for q in survey.questions.order_by("position")
    ]
    edited.update(label_max_en="Certainly", label_max_zh="")
    page = designer.post(f"/app/surveys/{survey.pk}/", post_data(survey, [edited, why]))
    assert page.status_code == 302
    nps = survey.questions.filter(version__isnull=True).order_by("position").first()
    assert nps.labels == {
        "min": {"en": "Not likely", "zh": "不太可能"},
        "max": {"en": "Certainly"},
    }
    html = designer.get(f"/app/surveys/{survey.pk}/").content.decode()
    notes = re.findall(r'<i class="bi bi-translate"></i> Not translated: ([^<]+)</p>', html)
    assert notes == ["scale labels in Chinese"]


def test_the_relationship_nps_recurs_and_the_designer_can_make_it_ask_once(designer):
    survey = create_from(designer, "nps")
    assert survey.recurrence_days == 90
    page = designer.get(f"/app/surveys/{survey.pk}/")
    assert 'name="recurrence_days" value="90"' in page.content.decode()
    data = post_data(survey)
    del data["recurrence_days"]  # the field left empty
    assert designer.post(f"/app/surveys/{survey.pk}/", data).status_code == 302
    survey.refresh_from_db()
    assert survey.recurrence_days is None
