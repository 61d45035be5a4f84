"""Exceptions to the Content-Security-Policy (CONTENT_SECURITY_POLICY in vocsite/settings/base.py),
in one place.

`widget_page`: a page of ours that embeds the widget (the demo shop, the survey editor's live
preview). The widget draws in a Shadow DOM with a `<style>` element and style attributes, which
a strict `style-src` refuses; those pages allow inline styles. `api_docs_page` likewise for
Swagger UI. Scripts stay static-only everywhere.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from csp.middleware import CSPMiddleware as PolicyMiddleware

# What a response that is not a page gets (JSON of the widget and the APIs, files): nothing
# may run or load from it, nor frame it. A constant, not built per response.
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


class CSPMiddleware(PolicyMiddleware):
    """django-csp's middleware for pages only: building the page policy cost about 0.3 ms per
    response, which every widget call paid for a header a JSON reply has no use for (measured
    in-process on the bench's bare JSON view: 668 µs with it, 390 µs without). A reply that is
    not HTML gets `NOT_A_PAGE_POLICY` instead."""

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = NOT_A_PAGE_POLICY
        return response


widget_page = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})

# The API docs: Swagger UI (drf-spectacular's sidecar files) sets inline styles as it draws.
api_docs_page = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})

# The weekly digest's preview: the e-mail as mailed (style attributes, as e-mail clients need
# them), framed by the digest page of this site.
email_preview_page = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "frame-ancestors": [SELF]})
