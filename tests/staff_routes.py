"""The staff pages, enumerated from the URL configuration, so a new page is visited without
anyone listing it: the translation check reads each in Chinese (tests/test_translations.py),
the browser check loads each under the Content-Security-Policy (tests/browser/test_csp.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from django.urls import get_resolver
from django.urls.resolvers import URLResolver

ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str | None, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        else:
            yield pattern.name, prefix + str(pattern.pattern)


def staff_routes() -> dict[str, str]:
    """Every named URL under /app/ and /accounts/: name → route (`app/cases/<int:case_id>/`)."""
    return {
        name: route
        for name, route in _walk(get_resolver())
        if name and route.startswith(("app/", "accounts/"))
    }


def route_arguments(route: str) -> list[str]:
    """The names of the route's arguments (`case_id`)."""
    return ARGUMENT.findall(route)


def route_path(route: str, arguments: Mapping[str, object]) -> str:
    """The route's path with each argument filled from `arguments`."""
    return "/" + ARGUMENT.sub(lambda match: str(arguments[match.group(1)]), route)
