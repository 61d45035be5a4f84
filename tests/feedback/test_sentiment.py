"""Sentiment (feedback/topics/sentiment.py): the failure classes of general-purpose lexicons on
customer-service text, the four labels, and the figures on the evaluation set's test half."""

import json
from pathlib import Path

import pytest

from feedback.management.commands.sentiment_eval import scores
from feedback.topics.sentiment import sentiment_of

DATA = Path(__file__).resolve().parents[1] / "data" / "sentiment"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # domain words that are not praise, and complaints without a negative word
        ("Support never answered my email.", "negative"),
        ("Delivery was late and support never answered my refund request.", "negative"),
        ("Still waiting for my refund, no reply from customer service.", "negative"),
        ("客服一直没回复。", "negative"),
        ("退款申请提交一周了还没到账。", "negative"),
        # praise
        ("Great service, thanks!", "positive"),
        ("客服很耐心，问题很快就解决了。", "positive"),
        # contrast and mixed
        ("The courier was friendly, but the parcel arrived a week late.", "mixed"),
        ("快递很快，但是客服态度太差了。", "mixed"),
        # suggestions and plain statements
        ("It would be nice to have an export to Excel.", "neutral"),
        ("我一般周末下单。", "neutral"),
    ],
)
def test_customer_service_language(text, label):
    assert sentiment_of(text) == label


def test_empty_text_has_no_sentiment():
    assert sentiment_of("   ") == ""


def _test_half(language: str) -> list[dict]:
    lines = (DATA / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, lines) if row["split"] == "test"]


def test_the_figures_on_the_test_half():
    """The README reports these; a change of the method or of its corpus shows here."""
    figures = {lang: scores(_test_half(lang)) for lang in ("en", "zh")}
    assert {lang: round(acc, 3) for lang, (acc, _) in figures.items()} == {
        "en": 0.905,
        "zh": 0.876,
    }
    assert {lang: round(f1, 3) for lang, (_, f1) in figures.items()} == {"en": 0.896, "zh": 0.874}
