"""Verbatims with the spans their topics matched highlighted (escaped piece by piece, so
customer text can never become markup)."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def highlighted(text: str, tags) -> str:
    spans = sorted(
        (t.span_start, t.span_end, t.topic.name)
        for t in tags
        if not t.suppressed and t.span_start is not None and t.span_end is not None
    )
    out, position = [], 0
    for start, end, name in spans:
        if start < position or end > len(text):
            continue  # overlaps an earlier span, or the text changed since tagging
        out.append(escape(text[position:start]))
        out.append(f'<mark title="{escape(name)}">{escape(text[start:end])}</mark>')
        position = end
    out.append(escape(text[position:]))
    return mark_safe("".join(out))  # noqa: S308 — every piece above is escaped


@register.filter
def topic_chips(tags):
    """One chip per topic (a topic can match several spans): not suppressed, by name."""
    seen: dict[int, object] = {}
    for tag in tags:
        if not tag.suppressed and tag.topic_id not in seen:
            seen[tag.topic_id] = tag
    return sorted(seen.values(), key=lambda t: t.topic.name)
