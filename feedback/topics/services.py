"""Topics on open text: tagging in the pipeline, retagging history, hand corrections, and
suggestions of topics nobody has defined yet.

Tags written by rules are recomputed freely (tagging the same text twice gives the same
rows); a person's correction is never overwritten: a topic added by hand stays (source
`manual`), and a rule match removed by hand stays removed (`suppressed`), through any retag.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from feedback.answering.batch import ResponseBatch, finished_response
from feedback.answering.models import Answer, Feedback
from feedback.answering.selectors import unhappy_scores
from feedback.topics.models import RetagRun, RetagStatus, Tag, TagSource, Topic
from feedback.topics.rules import TopicRule, compile_rule, match_topics
from feedback.topics.sentiment import sentiment_around, sentiment_of
from feedback.topics.text import CJK, terms, tokens
from surveys.tenancy.models import Project
from surveys.tenancy.services import audit_record
from vocsite import caches
from vocsite.errors import ApplicationError
from vocsite.publish import task_publish

MAX_KEYWORDS = 100
RETAG_CHUNK = 500


# ---------------------------------------------------------------- rules and tagging


def project_rules(project_id: int) -> list[TopicRule]:
    return [
        compile_rule(pk, keywords or [], exclusions or [])
        for pk, keywords, exclusions in Topic.objects.filter(
            project_id=project_id, is_active=True
        ).values_list("pk", "keywords", "exclusions")
    ]


def _retag(
    target_field: str, target_id: int, text: str, rules: Sequence[TopicRule], existing: list[Tag]
) -> int:
    """Rule tags of one answer or feedback item recomputed, each with the sentiment of the
    clause it sits in; hand corrections kept (a hand tag takes the whole text's sentiment).
    Returns the number of rule tags now in place."""
    kept_topics = {t.topic_id for t in existing if t.suppressed or t.source == TagSource.MANUAL}
    stale = [t.pk for t in existing if t.source == TagSource.RULE and not t.suppressed]
    matches = [m for m in match_topics(text, rules) if m.topic_id not in kept_topics]
    Tag.objects.filter(pk__in=[t.pk for t in existing if t.source == TagSource.MANUAL]).update(
        sentiment=sentiment_of(text)
    )
    if stale:
        Tag.objects.filter(pk__in=stale).delete()
    Tag.objects.bulk_create(
        [
            Tag(
                topic_id=m.topic_id,
                source=TagSource.RULE,
                span_start=m.start,
                span_end=m.end,
                matched_text=m.text[:200],
                sentiment=sentiment_around(text, m.start, m.end),
                **{target_field: target_id},
            )
            for m in matches
        ]
    )
    return len(matches)


def _tag_items(items, rules: Sequence[TopicRule], *, target: str, text: str):
    """Retag and re-score a batch of answers (`target="answer"`, text in `value_text`) or
    feedback items (`target="feedback"`, text in `text`): one query for their tags, then each
    item."""
    items = list(items)
    if not items:
        return 0
    model = type(items[0])
    existing: dict[int, list[Tag]] = defaultdict(list)
    for tag in Tag.objects.filter(**{f"{target}__in": [item.pk for item in items]}):
        existing[getattr(tag, f"{target}_id")].append(tag)
    written = 0
    for item in items:
        body = getattr(item, text)
        written += _retag(f"{target}_id", item.pk, body, rules, existing[item.pk])
        value = sentiment_of(body)
        if value != item.sentiment:
            model.objects.filter(pk=item.pk).update(sentiment=value)
            item.sentiment = value
    return written


def tag_answers(answers: Iterable[Answer], rules: Sequence[TopicRule]) -> int:
    return _tag_items(answers, rules, target="answer", text="value_text")


def tag_feedback_items(items: Iterable[Feedback], rules: Sequence[TopicRule]) -> int:
    return _tag_items(items, rules, target="feedback", text="text")


def _text_answers():
    return Answer.objects.filter(question_type="text").exclude(value_text="")


def tag_response(response_id: int, batch: ResponseBatch | None = None) -> int:
    """Pipeline step: topics and sentiment of a finished response's open-text answers."""
    response = finished_response(response_id, batch)
    if response is None:
        return 0
    answers = [a for a in response.answers.all() if a.question_type == "text" and a.value_text]
    if not answers:
        return 0  # most responses: a score and no comment
    with transaction.atomic():
        return tag_answers(answers, project_rules(response.project_id))


def tag_feedback(feedback_id: int) -> int:
    """Pipeline hook for Feedback-tab messages."""
    item = Feedback.objects.filter(pk=feedback_id).first()
    if item is None:
        return 0
    with transaction.atomic():
        return tag_feedback_items([item], project_rules(item.project_id))


# ---------------------------------------------------------------- topics and retagging


@dataclass(frozen=True)
class TopicIn:
    name: str
    keywords: list[str]
    exclusions: list[str]
    is_active: bool = True


def _clean_lines(values: Iterable[str], field: str) -> list[str]:
    cleaned, seen = [], set()
    for value in values:
        value = re.sub(r"\s+", " ", str(value)).strip()
        if value and value.casefold() not in seen:
            if len(value) > 100:
                raise ApplicationError(
                    "invalid",
                    gettext("The topic is not valid."),
                    {field: [gettext("Each keyword or phrase is at most 100 characters.")]},
                )
            seen.add(value.casefold())
            cleaned.append(value)
    if len(cleaned) > MAX_KEYWORDS:
        raise ApplicationError(
            "invalid",
            gettext("The topic is not valid."),
            {
                field: [
                    ngettext("At most %(limit)s entry.", "At most %(limit)s entries.", MAX_KEYWORDS)
                    % {"limit": MAX_KEYWORDS}
                ]
            },
        )
    return cleaned


def _validated(project: Project, data: TopicIn, *, instance: Topic | None = None) -> dict:
    name = data.name.strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = [gettext("A name of 1 to 100 characters.")]
    elif (
        Topic.objects.filter(project=project, name__iexact=name)
        .exclude(pk=instance.pk if instance else None)
        .exists()
    ):
        errors["name"] = [gettext("This project already has a topic of that name.")]
    keywords = _clean_lines(data.keywords, "keywords")
    exclusions = _clean_lines(data.exclusions, "exclusions")
    if not keywords:
        errors["keywords"] = [gettext("At least one keyword or phrase.")]
    elif not any(tokens(k) for k in keywords):
        errors["keywords"] = [gettext("Keywords need letters or Chinese characters.")]
    if errors:
        raise ApplicationError("invalid", gettext("The topic is not valid."), errors)
    return {
        "name": name,
        "keywords": keywords,
        "exclusions": exclusions,
        "is_active": data.is_active,
    }


def _snapshot(topic: Topic) -> dict:
    return {
        "name": topic.name,
        "keywords": topic.keywords,
        "exclusions": topic.exclusions,
        "is_active": topic.is_active,
    }


@transaction.atomic
def topic_save(
    *,
    project: Project,
    data: TopicIn,
    actor: AbstractBaseUser | None = None,
    topic: Topic | None = None,
) -> tuple[Topic, RetagRun | None]:
    """Create or change a topic; a change to what it matches starts a retag of all history."""

    values = _validated(project, data, instance=topic)
    before = _snapshot(topic) if topic else None
    if topic is None:
        topic = Topic.objects.create(project=project, **values)
        rules_changed = True
    else:
        rules_changed = any(
            getattr(topic, k) != values[k] for k in ("keywords", "exclusions", "is_active")
        )
        for key, value in values.items():
            setattr(topic, key, value)
        if rules_changed:
            topic.rules_version += 1
        topic.save()
    audit_record(
        project=project,
        action="topic.created" if before is None else "topic.updated",
        obj=topic,
        actor=actor,
        before=before,
        after=_snapshot(topic),
    )
    run = retag_start(project=project, actor=actor) if rules_changed else None
    return topic, run


@transaction.atomic
def topic_delete(*, topic: Topic, actor: AbstractBaseUser | None = None) -> None:

    audit_record(
        project=topic.project,
        action="topic.deleted",
        obj=topic,
        actor=actor,
        before=_snapshot(topic),
    )
    topic.delete()  # its tags go with it (cascade); nothing else needs recomputing
    caches.alert_rules_forget(project_id=topic.project_id)  # rules pointing at it lose it


def retag_start(*, project: Project, actor: AbstractBaseUser | None = None) -> RetagRun:
    """Queue a retag of the project's history, after commit."""
    run = RetagRun.objects.create(
        project=project,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: task_publish("feedback.tasks.retag_project", run.pk), robust=True)
    return run


def retag_run(run_id: int) -> RetagRun:
    """Retag every open-text answer and feedback item of the run's project, in chunks, saving
    progress after each; stops early when a newer run for the project exists."""
    run = RetagRun.objects.select_related("project").get(pk=run_id)
    if run.status not in (RetagStatus.QUEUED, RetagStatus.RUNNING):
        return run
    project = run.project
    answers = _text_answers().filter(response__project=project)
    items = Feedback.objects.filter(project=project).exclude(text="")
    run.status, run.started_at = RetagStatus.RUNNING, timezone.now()
    run.total, run.done, run.tags_written = answers.count() + items.count(), 0, 0
    run.save(update_fields=["status", "started_at", "total", "done", "tags_written"])
    rules = project_rules(project.pk)
    for queryset, tagger in ((answers, tag_answers), (items, tag_feedback_items)):
        last = 0
        while True:
            if RetagRun.objects.filter(project=project, pk__gt=run.pk).exists():
                run.status, run.finished_at = RetagStatus.SUPERSEDED, timezone.now()
                run.save(update_fields=["status", "finished_at"])
                return run
            chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:RETAG_CHUNK])
            if not chunk:
                break
            with transaction.atomic():
                run.tags_written += tagger(chunk, rules)
            last = chunk[-1].pk
            run.done += len(chunk)
            run.save(update_fields=["done", "tags_written", "updated_at"])
    run.status, run.finished_at = RetagStatus.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


# ---------------------------------------------------------------- hand corrections


def _target(project: Project, *, answer_id: int | None, feedback_id: int | None) -> dict:
    if answer_id is not None:
        if not _text_answers().filter(pk=answer_id, response__project=project).exists():
            raise ApplicationError("not_found", gettext("No such comment."), status_code=404)
        return {"answer_id": answer_id}
    if (
        feedback_id is not None
        and Feedback.objects.filter(pk=feedback_id, project=project).exists()
    ):
        return {"feedback_id": feedback_id}
    raise ApplicationError("not_found", gettext("No such comment."), status_code=404)


@transaction.atomic
def tag_add(
    *,
    project: Project,
    topic: Topic,
    actor: AbstractBaseUser | None,
    answer_id: int | None = None,
    feedback_id: int | None = None,
) -> None:
    """Attach a topic by hand; it stays through retags. Undoes an earlier hand removal."""
    target = _target(project, answer_id=answer_id, feedback_id=feedback_id)
    if topic.project_id != project.pk:
        raise ApplicationError("not_found", gettext("No such topic."), status_code=404)
    Tag.objects.filter(topic=topic, **target).delete()
    owner = Answer.objects if "answer_id" in target else Feedback.objects
    Tag.objects.create(
        topic=topic,
        source=TagSource.MANUAL,
        sentiment=owner.filter(pk=next(iter(target.values()))).values_list("sentiment", flat=True)[
            0
        ],
        created_by=actor if actor is not None and actor.is_authenticated else None,
        **target,
    )


@transaction.atomic
def tag_remove(
    *,
    project: Project,
    topic: Topic,
    actor: AbstractBaseUser | None,
    answer_id: int | None = None,
    feedback_id: int | None = None,
) -> None:
    """Take a topic off by hand: hand tags go, rule matches are kept as suppressed so a
    retag does not bring them back."""
    target = _target(project, answer_id=answer_id, feedback_id=feedback_id)
    tags = Tag.objects.filter(topic=topic, **target)
    tags.filter(source=TagSource.MANUAL).delete()
    if not tags.exists():
        # No rule match now, but one may appear after a rule change: remember the decision.
        Tag.objects.create(
            topic=topic,
            source=TagSource.RULE,
            suppressed=True,
            created_by=actor if actor is not None and actor.is_authenticated else None,
            **target,
        )
    else:
        tags.update(suppressed=True)


# ---------------------------------------------------------------- suggestions


def _stopwords() -> frozenset[str]:
    import stopwordsiso

    words = set(stopwordsiso.stopwords("zh"))
    for word in stopwordsiso.stopwords("en"):
        words.update(terms(word))
    return frozenset(words)


_STOPWORDS: frozenset[str] | None = None
MIN_COMMENTS = 3


def _candidate(norm: str) -> bool:
    if norm in _STOPWORDS or norm.isdigit():
        return False
    if re.fullmatch(f"[{CJK}]+", norm):
        return len(norm) >= 2  # single characters are mostly particles
    return len(norm) >= 3


def detractor_comments(
    project: Project, *, days: int = 30, limit: int = 5000
) -> list[tuple[int, str]]:
    """Recent open-text answers from unhappy responses (NPS 0–6, CSAT 1–2, CES 1–3), newest
    first, as (answer id, text)."""
    since = timezone.now() - timedelta(days=days)

    # EXISTS on the same response (the answer's index), not IN over all the project's scores
    unhappy = Answer.objects.filter(unhappy_scores(), response_id=OuterRef("response_id"))
    return list(
        _text_answers()
        .filter(response__project=project, response__finished_at__gte=since)
        .filter(Exists(unhappy))
        .order_by("-pk")
        .values_list("pk", "value_text")[:limit]
    )


def topic_suggestions(project: Project, *, days: int = 30, limit: int = 10) -> list[dict]:
    """Frequent words and two-word phrases in recent detractor comments that no topic matches,
    by how many such comments use them (what a topic made of it would cover), with three
    examples. A phrase that accounts for most uses of its words replaces them."""
    global _STOPWORDS
    if _STOPWORDS is None:
        _STOPWORDS = _stopwords()
    rules = project_rules(project.pk)
    single: Counter = Counter()
    pairs: Counter = Counter()
    surface: dict[tuple[str, ...], Counter] = defaultdict(Counter)
    examples: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for _pk, text in detractor_comments(project, days=days):
        if match_topics(text, rules):
            continue  # a topic already covers it: a suggestion must be about something new
        toks = tokens(text)
        seen: set[tuple[str, ...]] = set()
        for i, tok in enumerate(toks):
            if not _candidate(tok.norm):
                continue
            seen.add((tok.norm,))
            surface[(tok.norm,)][text[tok.start : tok.end].casefold()] += 1
            # two content words, next to each other or with one stop word between them
            # ("answered my email"), form a phrase
            for j in (i + 1, i + 2):
                if j >= len(toks) or not _candidate(toks[j].norm):
                    continue
                if j == i + 2 and _candidate(toks[i + 1].norm):
                    continue
                if any(ch in ".,;:!?。，；：！？" for ch in text[tok.end : toks[j].start]):
                    continue
                key = (tok.norm, toks[j].norm)
                seen.add(key)
                surface[key][text[tok.start : toks[j].end].casefold()] += 1
        for key in seen:
            (pairs if len(key) == 2 else single)[key] += 1
            if len(examples[key]) < 3 and text[:160] not in examples[key]:
                examples[key].append(text[:160])
    chosen: dict[tuple[str, ...], int] = {}
    for key, n in pairs.items():
        if n >= MIN_COMMENTS:
            chosen[key] = n
    for key, n in single.items():
        if n < MIN_COMMENTS:
            continue
        best_pair = max((m for k, m in chosen.items() if key[0] in k), default=0)
        if best_pair < 0.6 * n:
            chosen[key] = n
    ranked = sorted(chosen.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))
    return [
        {"term": surface[key].most_common(1)[0][0], "comments": n, "examples": examples[key]}
        for key, n in ranked[:limit]
    ]
