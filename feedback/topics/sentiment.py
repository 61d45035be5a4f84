"""Sentiment of one comment — positive, neutral or negative — offline, for English and Chinese.

English: VADER (Hutto & Gilbert, 2014), a lexicon and rule-based method made for short,
informal text, with its lexicon bundled in the package; the authors' thresholds are used as
published (compound ≥ 0.05 positive, ≤ −0.05 negative). Chinese: SnowNLP's naive Bayes
classifier, trained on product reviews and shipped inside the package; its probability of
"positive" is banded at 0.4 / 0.6 (chosen before measuring, not fitted). Nothing is downloaded
at run time. The language is the majority script of the comment.

Accuracy on the labelled sample in tests/data/sentiment_sample.tsv is measured by the tests
and reported in the README; the thresholds above were fixed before that sample was scored.
"""

from __future__ import annotations

from functools import lru_cache

from feedback.topics.text import is_chinese

POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"
VADER_THRESHOLD = 0.05
SNOWNLP_BAND = (0.4, 0.6)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _english(text: str) -> str:
    compound = _vader().polarity_scores(text)["compound"]
    if compound >= VADER_THRESHOLD:
        return POSITIVE
    return NEGATIVE if compound <= -VADER_THRESHOLD else NEUTRAL


def _chinese(text: str) -> str:
    from snownlp import SnowNLP

    probability = SnowNLP(text).sentiments
    low, high = SNOWNLP_BAND
    if probability >= high:
        return POSITIVE
    return NEGATIVE if probability <= low else NEUTRAL


@lru_cache(maxsize=4096)  # short comments repeat ("Great service!"): classify each once
def sentiment_of(text: str) -> str:
    """ "" for empty text; otherwise one of positive / neutral / negative."""
    text = (text or "").strip()
    if not text:
        return ""
    return _chinese(text) if is_chinese(text) else _english(text)
