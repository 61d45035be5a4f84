"""Every cache of configuration a process keeps in its own memory, in one place.

The widget's hot paths (decide, answer) and the worker's processing of a finished answer read
the same few rows of configuration on every call. Each process keeps them in memory
(`vocsite.process_cache.ProcessCache`) for `WIDGET_PROJECT_CACHE_SECONDS` (30 s by default;
0 turns every cache here off). What that buys: a decide without the project, touchpoint and
survey queries, an answer without the question queries, a finished answer checked against
its alert rules without four queries. What it costs: memory for a bounded number of entries
each (`max_entries` below), and a change made in another process reaching this one only when
the entry expires.

How a change reaches the caches:

- In the process that makes it, at once: the service that changes what a cache holds calls
  the cache's `*_forget` function below. It forgets the stale entries immediately (the rest
  of its own transaction reads its change) and again after commit (a read that loaded the old
  rows while the change was committing is dropped, and a load racing a forget is not kept),
  so the next widget call in that process reads the new rows.
- In every other process (other web workers, other machines, the Celery worker): within the
  TTL, `WIDGET_PROJECT_CACHE_SECONDS` after the entry was read. Nobody tells them.
- A change that bypasses the services (Django admin, a shell, SQL) also waits for the TTL.
- A transaction that changes configuration, reads it back through a cache and then rolls
  back leaves its uncommitted value in this process until the TTL (no service does that).

The caches (the kernel imports no domain app, so each is declared here and filled by the
loader its reader passes to `get`):

- `PROJECTS_BY_PUBLIC_KEY`: public key → the project row (allowed origins, identity secret,
  languages, throttle settings, theme). Read on every widget call by
  `surveys.tenancy.api_auth.project_for_public_key`. Forgotten by `project_forget`: the
  project settings update and the identity secret rotation (`surveys.tenancy.project_settings`).
- `TOUCHPOINT_SURVEYS`: (project id, touchpoint key) → the touchpoint and its active,
  published surveys. Read by `surveys.delivery.selectors.touchpoint_surveys` (decide, e-mail
  invitations). Forgotten by `touchpoint_surveys_forget`: survey update, publish, pause,
  resume and close (`surveys.design.services`); a touchpoint edited, retired, restored or
  deleted (`surveys.journey.services`).
- `ALERT_RULES`: project id → its active alert rules with their team, topics and touchpoints.
  Read by `feedback.cases.services` for every finished answer. Forgotten by
  `alert_rules_forget`: a rule created or edited (`feedback.cases.views`), the default rules
  installed, a team edited (`surveys.tenancy.project_settings.team_save`), a topic deleted,
  the demo seed's quiet spell.
- `QUESTIONS_BY_VERSION`: published version id → its questions. Read by
  `feedback.answering.services` for every answer. Never forgotten: a published version never
  changes.

A survey that is created, or a touchpoint, needs no forgetting: a draft survey is not
listed, and "not found" is never kept.

Not here, because they are not configuration: memoised constants (timezone names, SQL built
from the models, the NLP dictionaries). Topic rules are not cached: tagging reads them for each answer it tags.

Tests run with the caches off (`vocsite.settings.test`) except where a test turns them on
(the `caches_on` fixture in tests/conftest.py; tests/surveys/test_widget_caches.py).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from django.db import transaction

from vocsite.process_cache import ProcessCache

PROJECTS_BY_PUBLIC_KEY: ProcessCache[Any] = ProcessCache()
TOUCHPOINT_SURVEYS: ProcessCache[Any] = ProcessCache()
ALERT_RULES: ProcessCache[Any] = ProcessCache(max_entries=1_000)
QUESTIONS_BY_VERSION: ProcessCache[Any] = ProcessCache(max_entries=5_000)

ALL: tuple[ProcessCache[Any], ...] = (
    PROJECTS_BY_PUBLIC_KEY,
    TOUCHPOINT_SURVEYS,
    ALERT_RULES,
    QUESTIONS_BY_VERSION,
)


def _forget_now_and_after_commit(
    cache: ProcessCache[Any], stale: Callable[[Hashable, Any], bool]
) -> None:
    cache.forget_where(stale)
    transaction.on_commit(lambda: cache.forget_where(stale))


def project_forget(*, project_id: int) -> None:
    """The project's row changed: forget it under every public key."""
    _forget_now_and_after_commit(
        PROJECTS_BY_PUBLIC_KEY, lambda _key, project: project.pk == project_id
    )


def touchpoint_surveys_forget(*, project_id: int) -> None:
    """A survey of the project, or its touchpoints, changed: forget all its touchpoints."""
    _forget_now_and_after_commit(TOUCHPOINT_SURVEYS, lambda key, _value: key[0] == project_id)


def alert_rules_forget(*, project_id: int) -> None:
    """The project's alert rules, or what they point at, changed."""
    _forget_now_and_after_commit(ALERT_RULES, lambda key, _value: key == project_id)


def clear_all() -> None:
    """Forget everything in this process (tests: their rolled-back SQLite ids come back)."""
    for cache in ALL:
        cache.clear()
