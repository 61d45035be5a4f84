"""The alert-rule matcher, condition by condition (pure: no database)."""

from feedback.cases.alerting import (
    FeedbackIn,
    ResponseIn,
    RuleIn,
    ScoreIn,
    keywords_found,
    rule_matches_feedback,
    rule_matches_response,
)

DETRACTOR = RuleIn(rule_id=1, question_type="nps", score_min=0, score_max=6)


def nps(value: int, **kwargs) -> ResponseIn:
    return ResponseIn(scores=[ScoreIn("nps", value)], **kwargs)


def test_score_range_is_inclusive_on_both_ends():
    assert [v for v in range(11) if rule_matches_response(DETRACTOR, nps(v))] == list(range(7))


def test_question_type_must_match():
    assert not rule_matches_response(DETRACTOR, ResponseIn(scores=[ScoreIn("csat", 1)]))


def test_keywords_match_chinese_as_substrings_and_english_case_insensitively():
    assert keywords_found(["退款", "Refund"], ["退款太慢了", "I want a REFUND"]) == [
        "退款",
        "Refund",
    ]
    assert keywords_found(["退款"], ["发货很快"]) == []
    rule = RuleIn(rule_id=2, keywords=("退款",))
    assert rule_matches_response(rule, nps(9, texts=["退款太慢了"]))
    assert not rule_matches_response(rule, nps(9, texts=["很好"]))


def test_score_and_keywords_must_both_hold():
    rule = RuleIn(rule_id=3, question_type="nps", score_max=6, keywords=("delivery",))
    assert rule_matches_response(rule, nps(3, texts=["Delivery was late"]))
    assert not rule_matches_response(rule, nps(3, texts=["Price too high"]))
    assert not rule_matches_response(rule, nps(9, texts=["Delivery was late"]))


def test_touchpoints_topics_and_segment_narrow_the_rule():
    by_touchpoint = RuleIn(
        rule_id=4, question_type="nps", score_max=6, touchpoint_ids=frozenset({7})
    )
    assert rule_matches_response(by_touchpoint, nps(2, touchpoint_id=7))
    assert not rule_matches_response(by_touchpoint, nps(2, touchpoint_id=8))
    by_topic = RuleIn(rule_id=5, topic_ids=frozenset({11}))
    assert rule_matches_response(by_topic, nps(10, topic_ids=frozenset({11, 12})))
    assert not rule_matches_response(by_topic, nps(0, topic_ids=frozenset({12})))
    by_segment = RuleIn(rule_id=6, question_type="nps", score_max=6, segment={"plan": "pro"})
    assert rule_matches_response(by_segment, nps(1, segment={"plan": "pro", "region": "eu"}))
    assert not rule_matches_response(by_segment, nps(1, segment={"plan": "free"}))
    assert not rule_matches_response(by_segment, nps(1))


def test_a_rule_without_conditions_matches_nothing():
    assert not rule_matches_response(RuleIn(rule_id=7), nps(0))


def test_feedback_needs_an_opted_in_rule_and_an_unhappy_message():
    rule = RuleIn(rule_id=8, applies_to_feedback=True)
    assert rule_matches_feedback(rule, FeedbackIn(text="broken", rating=1))
    assert rule_matches_feedback(rule, FeedbackIn(text="broken", rating=2))
    assert not rule_matches_feedback(rule, FeedbackIn(text="ok", rating=3))
    assert rule_matches_feedback(rule, FeedbackIn(text="awful", sentiment="negative"))
    assert not rule_matches_feedback(rule, FeedbackIn(text="fine"))
    assert not rule_matches_feedback(RuleIn(rule_id=9), FeedbackIn(text="broken", rating=1))


def test_feedback_rule_with_keywords_catches_any_mention():
    rule = RuleIn(rule_id=10, applies_to_feedback=True, keywords=("refund",))
    assert rule_matches_feedback(rule, FeedbackIn(text="How do I get a refund?", rating=4))
    assert not rule_matches_feedback(rule, FeedbackIn(text="Love it", rating=5))
