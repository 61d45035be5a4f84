"""The staff form for a topic and its keyword rules."""

from __future__ import annotations

from django import forms
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _


class TopicForm(forms.Form):
    """A topic as the CX team writes it: one keyword or phrase per line."""

    name = forms.CharField(max_length=100, label=_("Name"))
    keywords_text = forms.CharField(
        label=_("Keywords and phrases"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=escape(
            _(
                "One per line, English or Chinese. English words match every form "
                "(refund → refunds, refunded); phrases match as written (money back); Chinese "
                "matches within whole words (慢 matches 太慢)."
            )
        ),
    )
    exclusions_text = forms.CharField(
        label=_("Exclusions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=escape(
            _("A match inside one of these is ignored (delivery address for Delivery).")
        ),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @staticmethod
    def lines(value: str) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
