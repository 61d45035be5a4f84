"""Accuracy and macro-F1 of the sentiment method per language on a labelled set's test half
(tests/data/sentiment/: written before the method, its test half never tuned on). `make test`
runs it and prints the figures beside the target; tests/feedback/test_sentiment.py holds them."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from feedback.topics.sentiment import LABELS, sentiment_of

TARGET = 0.85


def scores(rows: list[dict]) -> tuple[float, float]:
    """(accuracy, macro-F1 over the four labels)."""
    predicted = [sentiment_of(row["text"]) for row in rows]
    actual = [row["label"] for row in rows]
    accuracy = sum(p == a for p, a in zip(predicted, actual, strict=True)) / len(rows)
    f1s = []
    for label in LABELS:
        tp = sum(p == a == label for p, a in zip(predicted, actual, strict=True))
        fp = sum(p == label != a for p, a in zip(predicted, actual, strict=True))
        fn = sum(a == label != p for p, a in zip(predicted, actual, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return accuracy, sum(f1s) / len(f1s)


class Command(BaseCommand):
    help = "Sentiment accuracy and macro-F1 per language on the evaluation set's test half."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--data", default="tests/data/sentiment")
        parser.add_argument("--split", default="test")

    def handle(self, *args, data: str, split: str, **options) -> None:
        for language in ("en", "zh"):
            lines = (Path(data) / f"{language}.jsonl").read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
            rows = [row for row in rows if row["split"] == split]
            accuracy, macro_f1 = scores(rows)
            self.stdout.write(
                f"sentiment {language} ({split} half, {len(rows)} comments): "
                f"accuracy {accuracy:.1%}, macro-F1 {macro_f1:.3f} "
                f"(target: accuracy ≥ {TARGET:.0%}: {'met' if accuracy >= TARGET else 'MISSED'})"
            )
