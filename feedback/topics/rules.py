"""Topic rules: which topics a text is about, and where (pure; the models stay outside).

A topic has keywords — single words or phrases, Chinese or English — and exclusions. An
English (or mixed) keyword matches where its token sequence occurs in the text's tokens (see
`feedback.topics.text`). A Chinese keyword matches where its characters occur without cutting across
a jieba word: "慢" matches inside the word "太慢", but "价格" does not match "评价格外" (评价 /
格外), where the characters only meet across two words. An exclusion removes the keyword
matches it overlaps: with keyword "delivery" and exclusion "delivery address", "wrong delivery
address" is not about delivery but "late delivery" is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedback.topics.text import CJK, Token, add_words, terms, tokens

Phrase = tuple[str, ...] | str  # a token sequence, or (Chinese) the characters themselves


@dataclass(frozen=True)
class TopicRule:
    topic_id: int
    keywords: tuple[Phrase, ...]
    exclusions: tuple[Phrase, ...]


@dataclass(frozen=True)
class TopicMatch:
    topic_id: int
    start: int
    end: int
    text: str


def compile_rule(topic_id: int, keywords: Iterable[str], exclusions: Iterable[str]) -> TopicRule:
    keywords = [k.strip() for k in keywords if k and k.strip()]
    exclusions = [e.strip() for e in exclusions if e and e.strip()]
    add_words([*keywords, *exclusions])
    return TopicRule(topic_id, _phrases(keywords), _phrases(exclusions))


def _phrases(values: list[str]) -> tuple[Phrase, ...]:
    out: list[Phrase] = []
    for value in values:
        if re.fullmatch(f"[{CJK}]+", value):
            out.append(value)
        elif phrase := terms(value):
            out.append(phrase)
    return tuple(out)


def _spans(text: str, norms: Sequence[str], toks: Sequence[Token], phrase: Phrase):
    if isinstance(phrase, str):
        for found in re.finditer(re.escape(phrase), text):
            start, end = found.span()
            crossing = any(
                (t.start < start < t.end < end) or (start < t.start < end < t.end) for t in toks
            )
            if not crossing:
                yield start, end
        return
    width = len(phrase)
    for i in range(len(norms) - width + 1):
        if tuple(norms[i : i + width]) == phrase:
            yield toks[i].start, toks[i + width - 1].end


def match_topics(text: str, rules: Sequence[TopicRule]) -> list[TopicMatch]:
    """Every keyword occurrence not covered by an exclusion, in text order, one per span."""
    toks = tokens(text)
    norms = [t.norm for t in toks]
    found: dict[tuple[int, int], TopicMatch] = {}
    for rule in rules:
        excluded = [
            span for phrase in rule.exclusions for span in _spans(text, norms, toks, phrase)
        ]
        for phrase in rule.keywords:
            for start, end in _spans(text, norms, toks, phrase):
                if any(start < e_end and e_start < end for e_start, e_end in excluded):
                    continue
                found.setdefault(
                    (rule.topic_id, start), TopicMatch(rule.topic_id, start, end, text[start:end])
                )
    return sorted(found.values(), key=lambda m: (m.start, m.topic_id))
