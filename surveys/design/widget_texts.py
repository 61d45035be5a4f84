"""The widget's fixed texts (buttons, the end labels of a 0–10 scale, the Feedback tab), in one
language, from the same gettext catalogue as the e-mails and the hosted page.

The server sends them with what the widget shows: in the decide reply's survey (the survey's
language) and in the config reply for the Feedback tab (each of the project's languages), so
the script carries no translations of its own.

Each language's texts are built once per process (`lru_cache`): a decide reply that shows a
survey then costs a dictionary lookup instead of some fifteen gettext calls. The catalogue only
changes with a deploy, which restarts the processes, so nothing ever needs invalidating. The
returned dictionary is shared: callers serialise it, never change it.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import gettext, override, pgettext

from vocsite.i18n import django_language


def widget_texts(language: str) -> dict[str, str | dict[str, str]]:
    """The widget's texts in `language`, a project language code ("en", "zh")."""
    return _texts_in(django_language(language))


@lru_cache(maxsize=16)  # one entry per language in settings.LANGUAGES
def _texts_in(language: str) -> dict[str, str | dict[str, str]]:
    with override(language):
        categories = {
            "idea": pgettext("feedback category", "Idea"),
            "problem": pgettext("feedback category", "Problem"),
            "praise": pgettext("feedback category", "Praise"),
            "other": pgettext("feedback category", "Other"),
        }
        return {
            "next": gettext("Next"),
            "submit": gettext("Submit"),
            "thanks": gettext("Thank you for your feedback!"),
            "close": gettext("Close"),
            "optout": gettext("Don't ask me again"),
            "yes": gettext("Yes"),
            "no": gettext("No"),
            "low": gettext("Not likely"),
            "high": gettext("Very likely"),
            "feedback": gettext("Feedback"),
            "send": pgettext("send a message", "Send"),
            "sent": gettext("Got it — thank you!"),
            "placeholder": gettext("Tell us more…"),
            "rating": gettext("Rating"),
            "categories": categories,
        }
