"""Sentiment of one customer comment — positive, negative, neutral or mixed — offline, for
English and Chinese.

General-purpose lexicons misread customer-service text: VADER scores "support" and "help" as
praise, so "Support never answered my email." came out positive, and neither it nor SnowNLP
knows that "still waiting", "no reply", "还没到" or "一直没人回" are complaints with no
negative word in them. The method here learns that language from examples instead:

- For each language a logistic-regression classifier (scikit-learn) over n-grams of the
  comment: words (1–3) and characters within words (2–5) for English, characters (1–3) for
  Chinese, which needs no segmentation for them. Word and character n-grams carry what a
  lexicon misses: "never answered", "no reply", "still", "一直没", "还没" are learned as
  complaint markers, "support" and "客服" as the topic they are, and the words around a
  contrast ("…, but the", "但是", "就是") as the shift to what the customer cares about.
- `mixed` is a label of its own: a clear positive and a clear negative side of comparable
  strength ("Delivery was quick but the refund took a month").
- It is trained, the first time a process needs it (a few seconds), on the labelled corpus in
  `feedback/topics/sentiment_corpus/` (written for vocsite; its README says how and by which
  rules), so nothing is downloaded and every process trains the same model.

It is evaluated on a separate set written before the method was built
(`tests/data/sentiment/`): the n-gram ranges and the regularisation were chosen on its
development half; `make test` prints accuracy and macro-F1 per language on its test half,
which nothing was tuned on. The README gives the figures and the failure classes that remain.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from feedback.topics.text import is_chinese

POSITIVE, NEUTRAL, NEGATIVE, MIXED = "positive", "neutral", "negative", "mixed"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE, MIXED)
CORPUS = Path(__file__).resolve().parent / "sentiment_corpus"

# The inverse regularisation strength, chosen on the development half of the evaluation set.
REGULARISATION = 30.0


class _Model:
    """The n-gram vectorisers and the classifier of one language."""

    def __init__(self, language: str, texts: list[str], labels: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.language = language
        if language == "en":
            self.vectorizers = [
                TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ]
        else:
            self.vectorizers = [
                TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
            ]
        for vectorizer in self.vectorizers:
            vectorizer.fit(texts)
        self.classifier = LogisticRegression(
            C=REGULARISATION, max_iter=3000, class_weight="balanced"
        ).fit(self._features(texts), labels)

    def _features(self, texts: list[str]):
        from scipy.sparse import hstack

        return hstack([v.transform(texts) for v in self.vectorizers]).tocsr()

    def predict(self, texts: list[str]) -> list[str]:
        return [str(label) for label in self.classifier.predict(self._features(texts))]

    def predict_one_side(self, texts: list[str]) -> list[str]:
        """The most likely label other than `mixed`: for a single clause, which holds one
        thought (a comment can be mixed; "Delivery was quick" cannot)."""
        classes = [str(c) for c in self.classifier.classes_]
        keep = [i for i, label in enumerate(classes) if label != MIXED]
        return [
            classes[max(keep, key=lambda i: row[i])]
            for row in self.classifier.predict_proba(self._features(texts))
        ]


def corpus(language: str) -> tuple[list[str], list[str]]:
    """The training comments of a language: the corpus written for training, then the
    development half of the evaluation set (`<lang>.dev.jsonl`, copied from tests/data/sentiment:
    after the settings were chosen on it, the model learns from it too; the test half never)."""
    rows = []
    for path in (CORPUS / f"{language}.jsonl", CORPUS / f"{language}.dev.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        rows += [json.loads(line) for line in lines if line.strip()]
    return [row["text"] for row in rows], [row["label"] for row in rows]


def _trained_path(language: str, texts: list[str], labels: list[str]) -> Path:
    """Where this process keeps the model trained on exactly this corpus, method and version."""
    import sklearn

    digest = hashlib.sha256(
        json.dumps([texts, labels, REGULARISATION, sklearn.__version__]).encode()
        + Path(__file__).read_bytes()
    ).hexdigest()[:16]
    return Path(settings.VAR_DIR) / "sentiment" / f"{language}-{digest}.joblib"


@lru_cache(maxsize=2)
def _model(language: str) -> _Model:
    """Trained once per machine: the model is kept in var/ under a name that changes with the
    corpus, this module and scikit-learn's version, so a process loads it in milliseconds and a
    change of any of them trains afresh."""
    import joblib

    texts, labels = corpus(language)
    path = _trained_path(language, texts, labels)
    if path.exists():
        return joblib.load(path)
    model = _Model(language, texts, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    joblib.dump(model, partial)
    os.replace(partial, path)  # atomic: a process loading it never sees half a file
    return model


def language_of(text: str) -> str:
    return "zh" if is_chinese(text) else "en"


@lru_cache(maxsize=4096)  # short comments repeat ("Great service!"): classify each once
def sentiment_of(text: str) -> str:
    """ "" for empty text; otherwise one of positive / neutral / negative / mixed."""
    text = (text or "").strip()
    if not text:
        return ""
    return _model(language_of(text)).predict([text])[0]


# Where one thought ends and another begins: sentence ends, semicolons and line breaks, and the
# contrast words that turn a comment ("…, but", "however", "但是", "不过", "可是", "却").
_CLAUSE_BREAK = re.compile(
    r"[.!?;。！？；\n]+|[,，]?\s*\b(?:but|however|although|though|whereas|except)\b"
    r"|[,，]?\s*(?:但是|不过|可是|然而|但|却)",
    re.IGNORECASE,
)


def clause_around(text: str, start: int, end: int) -> str:
    """The clause of `text` that holds the span [start, end): a topic's match is judged by what
    is said around it ("Delivery was quick but the refund took a month": delivery is praised,
    the refund is not)."""
    left, right = 0, len(text)
    for brk in _CLAUSE_BREAK.finditer(text):
        if brk.end() <= start:
            left = brk.end()
        elif brk.start() >= end:
            right = brk.start()
            break
    return text[left:right].strip(" ,，、") or text


def sentiment_around(text: str, start: int | None, end: int | None) -> str:
    """The sentiment of the clause around a span (of the whole text when there is no span)."""
    if start is None or end is None:
        return sentiment_of(text)
    clause = clause_around(text, start, end)
    return sentiment_of(text) if clause == text.strip() else _clause_sentiment(clause)


@lru_cache(maxsize=4096)
def _clause_sentiment(clause: str) -> str:
    clause = clause.strip()
    if not clause:
        return ""
    return _model(language_of(clause)).predict_one_side([clause])[0]
