"""A survey link's hidden fields: which names a link may declare, and which of a request's
query values are kept as breakdown values (`?store=sh-021`). Pure: no Django.

The page's own parameters (language, the signed identity, the step token) can never be hidden
fields, so a link cannot be made to store them. A query value whose name the link does not
declare is ignored (marketing tools add their own, such as `utm_source`); a declared one that
is too long or holds control characters is refused, so nothing half-stored is counted."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED = frozenset({"lang", "user_id", "user_hash", "r", "step", "source", "score", "next"})
MAX_FIELDS = 10
MAX_VALUE_LENGTH = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class HiddenFieldProblem(Exception):
    """A declared hidden field's value that cannot be kept: `name` and why (a message code:
    `too_long`, `control`, `repeated`)."""

    def __init__(self, name: str, code: str) -> None:
        super().__init__(name, code)
        self.name = name
        self.code = code


def name_problems(names: Sequence[str]) -> dict[int, str]:
    """Index → problem code for each name a link may not declare: `format` (lower-case letter,
    then letters, digits or _, at most 40), `reserved`, `repeated`; the key -1 names a list
    longer than MAX_FIELDS (`too_many`)."""
    problems: dict[int, str] = {}
    if len(names) > MAX_FIELDS:
        problems[-1] = "too_many"
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not isinstance(name, str) or not NAME.match(name):
            problems[index] = "format"
        elif name in RESERVED:
            problems[index] = "reserved"
        elif name in seen:
            problems[index] = "repeated"
        else:
            seen.add(name)
    return problems


def hidden_values(declared: Iterable[str], query: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The declared names' values in `query` (each name → its values, as a QueryDict's
    lists), stripped; blank ones left out. Raises HiddenFieldProblem for the first declared
    name whose value cannot be kept."""
    values: dict[str, str] = {}
    for name in declared:
        given = [v for v in query.get(name, ()) if v.strip()]
        if not given:
            continue
        if len(set(given)) > 1:
            raise HiddenFieldProblem(name, "repeated")
        value = given[0].strip()
        if len(value) > MAX_VALUE_LENGTH:
            raise HiddenFieldProblem(name, "too_long")
        if _CONTROL.search(value):
            raise HiddenFieldProblem(name, "control")
        values[name] = value
    return values
