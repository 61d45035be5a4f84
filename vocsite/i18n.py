"""Which language a text is shown in.

Customers read a survey's fixed texts (e-mail, hosted page, widget) in the survey's or the
contact's language, given as a project language code ("en", "zh", "zh-CN"); `django_language`
turns that into one of settings.LANGUAGES for `translation.override`. Staff read the staff
UI in their browser's language (`StaffLocaleMiddleware`). The texts themselves are in
locale/zh_Hans/LC_MESSAGES/django.po (`make messages`).
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils.translation import get_supported_language_variant

# The staff's pages: the UI, sign-in and password pages, the Django admin, and the demo shop
# staff open to try the widget.
STAFF_PREFIXES = ("/app/", "/accounts/", "/admin/", "/demo/")


def django_language(code: str | None) -> str:
    """The supported language closest to `code` ("zh" and "zh-CN" → "zh-hans"), or the site's
    default (English) for a language with no catalogue."""
    try:
        return get_supported_language_variant(code or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


class StaffLocaleMiddleware(LocaleMiddleware):
    """Staff pages in the language the browser asks for (Accept-Language). Everything else is
    left alone: the APIs' messages are for developers, and what customers read (the widget's
    replies, the hosted page, e-mails) follows the survey's language, not the header, so those
    replies carry no `Vary: Accept-Language` and stay cacheable."""

    def process_request(self, request):
        if request.path_info.startswith(STAFF_PREFIXES):
            super().process_request(request)

    def process_response(self, request, response):
        if not request.path_info.startswith(STAFF_PREFIXES):
            return response
        return super().process_response(request, response)
