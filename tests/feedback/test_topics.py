"""Topics on open text: token rules in English and Chinese with spans and exclusions, tagging
in the pipeline, retagging after a rule change (progress recorded, hand corrections kept),
suggested topics, sentiment, and topics in alert rules."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from feedback.answering.models import Answer
from feedback.cases.models import AlertRule, Case
from feedback.topics.models import RetagRun, Tag, Topic
from feedback.topics.rules import TopicMatch, compile_rule, match_topics
from feedback.topics.sentiment import sentiment_of
from feedback.topics.services import (
    TopicIn,
    retag_run,
    tag_add,
    tag_remove,
    topic_save,
    topic_suggestions,
)
from feedback.topics.text import is_chinese
from vocsite.errors import ApplicationError

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sentiment_sample.tsv"


# ---------------------------------------------------------------- pure rules


def test_english_keywords_match_stems_on_word_boundaries():
    rule = compile_rule(1, ["refund", "late delivery"], [])
    text = "Refunds are slow. Chocolate arrived; LATE deliveries again."
    assert match_topics(text, [rule]) == [
        TopicMatch(1, 0, 7, "Refunds"),
        TopicMatch(1, 37, 52, "LATE deliveries"),
    ]
    assert match_topics("I ate chocolate", [compile_rule(2, ["late"], [])]) == []


def test_chinese_keywords_follow_jieba_words():
    rule = compile_rule(1, ["慢", "价格"], [])
    text = "客服回复太慢了，评价格外好，价格太贵"
    # 慢 inside the word 太慢 matches; 价格 across 评价 / 格外 does not; the real 价格 does
    assert match_topics(text, [rule]) == [TopicMatch(1, 5, 6, "慢"), TopicMatch(1, 14, 16, "价格")]


def test_exclusions_remove_only_the_matches_they_overlap():
    rule = compile_rule(1, ["delivery", "配送"], ["delivery address", "配送地址"])
    text = "Wrong delivery address but late delivery. 配送地址错了，配送也慢"
    matches = match_topics(text, [rule])
    assert [(m.text, m.start) for m in matches] == [("delivery", 32), ("配送", 49)]


# ---------------------------------------------------------------- pipeline, retag, corrections


@pytest.fixture
def refunds(project):
    return Topic.objects.create(project=project, name="Refunds", keywords=["refund", "退款"])


def _tags(answer) -> list[tuple[str, str, int | None, bool]]:
    return sorted(
        (t.topic.name, t.source, t.span_start, t.suppressed)
        for t in Tag.objects.filter(answer=answer).select_related("topic")
    )


def _comment(response) -> Answer:
    return response.answers.get(question_type="text")


def test_new_answers_are_tagged_with_spans_and_sentiment(db, respond, refunds):
    answer = _comment(respond(2, text="My refund never arrived, 退款没到"))
    tags = list(Tag.objects.filter(answer=answer).order_by("span_start"))
    assert [(t.matched_text, t.span_start, t.span_end) for t in tags] == [
        ("refund", 3, 9),
        ("退款", 25, 27),
    ]
    assert answer.sentiment == "negative"


def test_tagging_twice_writes_the_same_rows(db, respond, refunds):
    from feedback.topics.services import tag_response

    response = respond(2, text="refund refund")
    first = _tags(_comment(response))
    assert tag_response(response.pk) == 2
    assert (
        _tags(_comment(response))
        == first
        == [
            ("Refunds", "rule", 0, False),
            ("Refunds", "rule", 7, False),
        ]
    )


def test_rule_change_retags_history_with_progress_and_keeps_corrections(
    db, project, respond, refunds, django_capture_on_commit_callbacks
):
    late = _comment(respond(3, text="Delivery was late", user="a"))
    money = _comment(respond(3, text="Where is my refund?", user="b"))
    other = _comment(respond(3, text="refund please and late", user="c"))
    # an agent corrects two answers by hand
    tag_remove(project=project, topic=refunds, actor=None, answer_id=other.pk)
    delivery = Topic.objects.create(project=project, name="Delivery", keywords=["parcel"])
    tag_add(project=project, topic=delivery, actor=None, answer_id=money.pk)

    with django_capture_on_commit_callbacks(execute=True):
        _, run = topic_save(
            project=project,
            topic=delivery,
            data=TopicIn(name="Delivery", keywords=["delivery", "late"], exclusions=[]),
        )
    run.refresh_from_db()
    assert (run.status, run.total, run.done, run.percent) == ("done", 3, 3, 100)
    assert _tags(late) == [("Delivery", "rule", 0, False), ("Delivery", "rule", 13, False)]
    assert _tags(money) == [("Delivery", "manual", None, False), ("Refunds", "rule", 12, False)]
    # the removed Refunds match stays removed; the new Delivery rule applies
    assert _tags(other) == [("Delivery", "rule", 18, False), ("Refunds", "rule", 0, True)]
    # a second full retag changes nothing
    again = RetagRun.objects.create(project=project)
    retag_run(again.pk)
    assert _tags(other) == [("Delivery", "rule", 18, False), ("Refunds", "rule", 0, True)]
    assert _tags(money) == [("Delivery", "manual", None, False), ("Refunds", "rule", 12, False)]


def test_each_match_carries_the_sentiment_of_its_own_clause(db, project, respond, refunds):
    """One comment praises delivery and complains about the refund: each topic reads its own
    clause, and the comment as a whole is mixed."""
    delivery = Topic.objects.create(project=project, name="Delivery", keywords=["delivery", "快递"])
    answer = _comment(respond(3, text="Delivery was quick but the refund took a month."))
    assert _tag_feelings(answer) == [("Delivery", "positive"), ("Refunds", "negative")]
    zh = _comment(respond(3, text="快递很快，但是退款一个月都没到账。", user="zh"))
    assert _tag_feelings(zh) == [("Delivery", "positive"), ("Refunds", "negative")]
    # A hand tag reads the whole comment.
    tag_add(
        project=project,
        topic=delivery,
        actor=None,
        answer_id=_comment(respond(2, text="Support never answered my email.", user="hand")).pk,
    )
    assert Tag.objects.get(source="manual").sentiment == "negative"


def _tag_feelings(answer) -> list[tuple[str, str]]:
    return sorted(
        (t.topic.name, t.sentiment)
        for t in Tag.objects.filter(answer=answer).select_related("topic")
    )


def test_a_retag_scores_sentiment_again(db, project, respond, refunds):
    answer = _comment(respond(2, text="The refund never came."))
    Answer.objects.filter(pk=answer.pk).update(sentiment="positive")  # scored by an older model
    Tag.objects.filter(answer=answer).update(sentiment="")
    run = RetagRun.objects.create(project=project)
    assert retag_run(run.pk).status == "done"
    answer.refresh_from_db()
    assert answer.sentiment == "negative"
    assert _tag_feelings(answer) == [("Refunds", "negative")]


def test_an_older_run_stops_when_a_newer_one_exists(db, project, respond, refunds):
    respond(3, text="refund")
    old = RetagRun.objects.create(project=project)
    RetagRun.objects.create(project=project)
    assert retag_run(old.pk).status == "superseded"


def test_topic_validation_collects_every_problem(db, project, refunds):
    with pytest.raises(ApplicationError) as error:
        topic_save(
            project=project, data=TopicIn(name="refunds", keywords=["  ", "!!"], exclusions=[])
        )
    assert error.value.fields == {
        "name": ["This project already has a topic of that name."],
        "keywords": ["Keywords need letters or Chinese characters."],
    }
    assert Topic.objects.filter(project=project).count() == 1


def test_suggestions_come_only_from_comments_no_topic_matches(db, project, respond, refunds):
    for user in ("a", "b", "c"):
        respond(2, text="The app keeps crashing on login.", user=user)
    for user in ("d", "e", "g"):
        respond(2, text="crashing again", user=user)
    for user in ("h", "i", "j", "k"):  # the Refunds topic matches these: nothing new in them
        respond(2, text="Refund still not processed, the app keeps crashing.", user=user)
    respond(2, text="应用闪退，退款也没到", user="f")
    suggestions = {s["term"]: s for s in topic_suggestions(project)}
    assert suggestions["crashing"]["comments"] == 6
    assert suggestions["app keeps crashing"]["comments"] == 3
    # Up to three examples, newest first, each text once.
    assert suggestions["crashing"]["examples"] == [
        "crashing again",
        "The app keeps crashing on login.",
    ]
    assert all("Refund" not in example for s in suggestions.values() for example in s["examples"])
    assert "app" not in suggestions  # every use of "app" is inside the phrase
    assert "processed" not in suggestions and "refund" not in suggestions
    assert all(s != "退款" for s in suggestions)


def test_topics_in_alert_rules_open_cases(db, project, respond, refunds):
    rule = AlertRule.objects.create(
        project=project, name="Any refund complaint", question_type="", priority="high"
    )
    rule.topics.add(refunds)
    response = respond(5, text="Fine, but the refund took a while")
    assert Case.objects.filter(response=response, rule=rule).count() == 1
    calm = respond(5, text="All good")
    assert not Case.objects.filter(response=calm, rule=rule).exists()


# ---------------------------------------------------------------- sentiment


def test_sentiment_accuracy_on_the_labelled_sample():
    """The sample (tests/data/sentiment_sample.tsv, 135 comments labelled by hand before the
    method was run on them) is scored as is; the README reports these figures."""
    right, total = Counter(), Counter()
    with SAMPLE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            language = "zh" if is_chinese(row["text"]) else "en"
            total[language] += 1
            right[language] += sentiment_of(row["text"]) == row["label"]
    assert total == {"en": 75, "zh": 60}
    accuracy = {lang: right[lang] / total[lang] for lang in total}
    print(
        f"sentiment accuracy: {accuracy}, overall {sum(right.values()) / sum(total.values()):.3f}"
    )
    # 66/75 English, 44/60 Chinese (VADER and SnowNLP had 55 and 46; this older sample has no
    # `mixed` label, so a comment the method calls mixed counts as wrong here); a change means
    # the method or its corpus changed
    assert right == {"en": 66, "zh": 44}


def test_sentiment_of_empty_text_is_empty():
    assert sentiment_of("   ") == ""


def test_topic_trends_show_every_topic_as_the_leaders_and_the_rest(db, project, respond, refunds):
    from feedback.topics.selectors import topic_trends

    delivery = Topic.objects.create(project=project, name="Delivery", keywords=["delivery"])
    price = Topic.objects.create(project=project, name="Price", keywords=["price"])
    for n, text in enumerate(
        [
            "refund late",
            "refund again",
            "refund and delivery",
            "delivery late",
            "price and delivery",
        ]
    ):
        respond(2, text=text, user=f"u{n}")
    retag_run(RetagRun.objects.create(project=project).pk)
    assert (delivery.tags.count(), price.tags.count(), refunds.tags.count()) == (3, 1, 3)
    trends = topic_trends(project=project, top=1)
    assert len(trends["labels"]) == 1  # one week
    # Delivery and Refunds have three comments each (the tie goes by name); Price and Refunds
    # are "other": four distinct comments.
    assert [(d["label"], d["values"]) for d in trends["datasets"]] == [
        ("Delivery", [3]),
        ("Other topics (2)", [4]),
    ]
