"""The accent colour customers see on the widget's and the hosted page's buttons and on the
score they pick: what counts as one, which text stays readable on it, and which one a survey
shows (its own, else its project's, else the default).

A project's `theme` and a survey's `theme` are both {"primary_color": "#rrggbb"} (a survey's
may be empty: it takes the project's). The colour also goes into a style element of the hosted
page, where HTML escaping is no protection, so only the plain six-digit hex form is accepted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

DEFAULT_COLOR = "#2563eb"
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
THEME_KEYS = ("primary_color",)
LIGHT_TEXT, DARK_TEXT = "#ffffff", "#111827"
COLOR_PROBLEM = "A colour written #rrggbb, e.g. #4f46e5."


def is_color(value: Any) -> bool:
    return isinstance(value, str) and HEX_COLOR.fullmatch(value) is not None


def theme_errors(theme: Any) -> dict[str, list[str]]:
    """What is wrong with a theme as given, by field: {"theme.primary_color": [...]}, {} when
    nothing is."""
    if not isinstance(theme, Mapping):
        return {"theme": ['An object such as {"primary_color": "#4f46e5"}.']}
    known = ", ".join(THEME_KEYS)
    errors = {
        f"theme.{key}": [f"Unknown theme setting; known: {known}."]
        for key in theme
        if key not in THEME_KEYS
    }
    color = theme.get("primary_color")
    if color is not None and not is_color(color):
        errors["theme.primary_color"] = [COLOR_PROBLEM]
    return errors


def _luminance(color: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = []
    for start in (1, 3, 5):
        value = int(color[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours, from 1 (none) to 21."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_color_on(color: str) -> str:
    """White or near-black, whichever reads better on `color`."""
    return LIGHT_TEXT if contrast(color, LIGHT_TEXT) >= contrast(color, DARK_TEXT) else DARK_TEXT


def theme_colors(*themes: Mapping[str, Any] | None) -> dict[str, str]:
    """The colours to draw with: the first theme's valid accent colour (a survey's, then its
    project's), else the default, and the text colour that reads on it."""
    color = next(
        (
            theme["primary_color"]
            for theme in themes
            if isinstance(theme, Mapping) and is_color(theme.get("primary_color"))
        ),
        DEFAULT_COLOR,
    )
    return {"primary_color": color, "text_color": text_color_on(color)}
