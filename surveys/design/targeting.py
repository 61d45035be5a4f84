"""Targeting: which customers a survey is for (attributes, page URLs, languages) — the rules'
vocabulary, their validation when a survey is designed, and their evaluation, which decide
runs for each candidate survey (surveys.delivery.throttle). URL patterns are RE2: linear time
whatever a designer types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import re2
from django.utils.translation import gettext, ngettext


class Targeted(Protocol):
    """What targeting looks at about the person being asked."""

    attributes: Mapping[str, Any]
    url: str | None
    language: str | None


ATTRIBUTE_OPS = (
    "eq",
    "neq",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "contains",
    "exists",
    "not_exists",
)
URL_OPS = ("contains", "starts_with", "ends_with", "equals", "regex")
_MAX_REGEX = 300


def _regex_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a designer's invalid pattern is a field error, not a log line
    return options


_REGEX_OPTIONS = _regex_options()


def url_pattern(value: str):
    """A designer's URL pattern compiled by RE2, which matches in time linear in the URL's
    length: Python's backtracking `re` took seconds on a 25-character path for `(x+x+)+y`, on a
    URL the visitor chooses. RE2 has no look-around and no back-references; such a pattern
    raises `re2.error` here and is refused when the survey is saved (`validate_targeting`).
    Compiled patterns are kept by the `re2` module's own LRU cache (128 patterns)."""
    return re2.compile(value, options=_REGEX_OPTIONS)


def _regex_problem(error: re2.error) -> str:
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason) or "not supported"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _attribute_matches(rule: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    op, name, expected = rule.get("op"), rule.get("attribute"), rule.get("value")
    present = name in attributes
    actual = attributes.get(name)
    if op == "exists":
        return present
    if op == "not_exists":
        return not present
    if not present:
        return op in ("neq", "not_in")
    if op == "eq":
        return str(actual) == str(expected)
    if op == "neq":
        return str(actual) != str(expected)
    if op in ("in", "not_in"):
        values = {str(v) for v in expected} if isinstance(expected, list) else set()
        return (str(actual) in values) == (op == "in")
    if op == "contains":
        return str(expected).lower() in str(actual).lower()
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}.get(
        op, False
    )


def _url_matches(rule: Mapping[str, Any], url: str) -> bool:
    op, value = rule.get("op"), str(rule.get("value", ""))
    if op == "contains":
        return value in url
    if op == "starts_with":
        return url.startswith(value)
    if op == "ends_with":
        return url.endswith(value)
    if op == "equals":
        return url == value
    if op == "regex":
        try:
            return url_pattern(value[:_MAX_REGEX]).search(url) is not None
        except re2.error:  # saved before patterns were checked with RE2: it matches nothing
            return False
    return False


def primary_language(locale: str | None) -> str:
    return (locale or "").replace("_", "-").split("-")[0].lower()


def targeting_matches(targeting: Mapping[str, Any], contact: Targeted) -> bool:
    """All attribute rules must match; any URL rule may match; the language must be listed."""
    if not targeting:
        return True
    if not all(
        _attribute_matches(rule, contact.attributes) for rule in targeting.get("attributes") or []
    ):
        return False
    url_rules = targeting.get("urls") or []
    if url_rules and not any(_url_matches(rule, contact.url or "") for rule in url_rules):
        return False
    languages = [primary_language(lang) for lang in targeting.get("languages") or []]
    return not languages or primary_language(contact.language) in languages


def validate_targeting(targeting: Any) -> dict[str, list[str]]:
    """Field errors for a targeting block, keyed like `attributes.0.op`."""
    errors: dict[str, list[str]] = {}
    if not isinstance(targeting, Mapping):
        return {"": ["Targeting is an object with attributes, urls and languages."]}
    for key in set(targeting) - {"attributes", "urls", "languages"}:
        errors[key] = [gettext("Unknown targeting rule kind.")]
    for index, rule in enumerate(targeting.get("attributes") or []):
        prefix = f"attributes.{index}"
        if not isinstance(rule, Mapping) or not str(rule.get("attribute") or "").strip():
            errors[prefix] = [gettext("Each attribute rule names an attribute.")]
        elif rule.get("op") not in ATTRIBUTE_OPS:
            errors[f"{prefix}.op"] = [
                gettext("One of %(names)s.") % {"names": ", ".join(ATTRIBUTE_OPS)}
            ]
        elif rule["op"] in ("in", "not_in") and not isinstance(rule.get("value"), list):
            errors[f"{prefix}.value"] = [gettext("A list of values.")]
        elif rule["op"] in ("gt", "gte", "lt", "lte") and _number(rule.get("value")) is None:
            errors[f"{prefix}.value"] = [gettext("A number.")]
    for index, rule in enumerate(targeting.get("urls") or []):
        prefix = f"urls.{index}"
        if not isinstance(rule, Mapping) or rule.get("op") not in URL_OPS:
            errors[f"{prefix}.op"] = [gettext("One of %(names)s.") % {"names": ", ".join(URL_OPS)}]
        elif not isinstance(rule.get("value"), str) or not rule["value"]:
            errors[f"{prefix}.value"] = [gettext("A non-empty text.")]
        elif rule["op"] == "regex":
            if len(rule["value"]) > _MAX_REGEX:
                errors[f"{prefix}.value"] = [
                    ngettext(
                        "At most %(limit)s character.", "At most %(limit)s characters.", _MAX_REGEX
                    )
                    % {"limit": _MAX_REGEX}
                ]
            else:
                try:
                    url_pattern(rule["value"])
                except re2.error as error:
                    errors[f"{prefix}.value"] = [
                        gettext(
                            "Not a regular expression vocsite can run: %(problem)s. "
                            "(RE2 syntax: no look-ahead, look-behind or back-references.)"
                        )
                        % {"problem": _regex_problem(error)}
                    ]
    languages = targeting.get("languages") or []
    if not isinstance(languages, list) or not all(
        isinstance(lang, str) and lang for lang in languages
    ):
        errors["languages"] = [gettext("A list of language codes.")]
    return errors
