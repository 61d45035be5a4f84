"""Exceptions to the Content-Security-Policy (CONTENT_SECURITY_POLICY in vocsite/settings/base.py),
in one place.

`widget_page`: a page of ours that embeds the widget (the demo shop, the survey editor's live
preview). The widget draws in a Shadow DOM with a `<style>` element and style attributes, which
a strict `style-src` refuses; those pages allow inline styles. `api_docs_page` likewise for
Swagger UI. Scripts stay static-only everywhere.
"""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace

widget_page = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})

# The API docs: Swagger UI (drf-spectacular's sidecar files) sets inline styles as it draws.
api_docs_page = csp_replace({"style-src": [SELF, UNSAFE_INLINE]})
