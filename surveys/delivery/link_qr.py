"""QR codes of survey links, to print on receipts and counters: PNG and SVG made by segno
(pure Python, no image library), and their download. Error correction M (15 % of the code may be smudged or
torn), at least the four-module quiet zone scanners need, and modules large enough to
print sharp at receipt sizes."""

from __future__ import annotations

import io

import segno
from django.http import HttpResponse

from surveys.delivery.link_selectors import link_url
from surveys.delivery.models import SurveyLink

PNG_SCALE = 10  # pixels per module: a 33-module code is a 410-pixel square with its border
SVG_SCALE = 8
BORDER = 4


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="png", scale=PNG_SCALE, border=BORDER)
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(
        buffer, kind="svg", scale=SVG_SCALE, border=BORDER, xmldecl=True, title=url
    )
    return buffer.getvalue()


QR_KINDS = {"png": ("image/png", qr_png), "svg": ("image/svg+xml", qr_svg)}


def qr_response(link: SurveyLink, kind: str) -> HttpResponse:
    """The link's QR code as a download named after the link."""
    content_type, make = QR_KINDS[kind]
    response = HttpResponse(make(link_url(link)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="survey-link-{link.pk}.{kind}"'
    return response
