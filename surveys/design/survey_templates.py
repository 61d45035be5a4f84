"""Starting points for the survey designer: the surveys CX teams build most often.

Each template is a name, questions (English and Chinese) and the settings that suit it. The
designer creates a draft from one; nothing is live until it is published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from surveys.design.scales import default_scale
from surveys.design.services import QuestionIn


@dataclass(frozen=True)
class SurveyTemplate:
    key: str
    title: str  # lazy: in the staff's language
    description: str
    name: str
    questions: list[QuestionIn]
    settings: dict[str, Any] = field(default_factory=dict)


WHY = {"en": "What is the main reason for your score?", "zh": "您给出这个分数的主要原因是什么？"}

TEMPLATES: dict[str, SurveyTemplate] = {
    t.key: t
    for t in (
        SurveyTemplate(
            key="nps",
            title=_("NPS with a “why”"),
            description=_("How likely to recommend (0–10), then an open “why” for everyone."),
            name="Relationship NPS",
            questions=[
                QuestionIn(
                    type="nps",
                    text={
                        "en": "How likely are you to recommend us to a friend or colleague?",
                        "zh": "您向朋友或同事推荐我们的可能性有多大？",
                    },
                    labels={
                        "min": {"en": "Not likely", "zh": "不太可能"},
                        "max": {"en": "Very likely", "zh": "非常可能"},
                    },
                ),
                QuestionIn(type="text", text=WHY, required=False),
            ],
            settings={
                "display_option": "until_responded",
                "recontact_days": 90,
                "recurrence_days": 90,
            },
        ),
        SurveyTemplate(
            key="csat_support",
            title=_("CSAT after support"),
            description=_("Satisfaction with a closed ticket or chat (1–5), and what to improve."),
            name="Support CSAT",
            questions=[
                QuestionIn(
                    type="csat",
                    text={
                        "en": "How satisfied are you with the help you received?",
                        "zh": "您对获得的帮助满意吗？",
                    },
                    scale=default_scale("csat"),
                ),
                QuestionIn(
                    type="text",
                    text={"en": "What could we have done better?", "zh": "我们哪里可以做得更好？"},
                    required=False,
                    show_if={"question": 0, "min": 1, "max": 3},
                ),
            ],
            settings={"display_option": "always", "recontact_days": 30},
        ),
        SurveyTemplate(
            key="ces_checkout",
            title=_("CES after checkout"),
            description=_("“It was easy to…” agreement (1–7) right after an order."),
            name="Checkout effort",
            questions=[
                QuestionIn(
                    type="ces",
                    text={
                        "en": "The checkout made it easy to complete my order.",
                        "zh": "结账流程让我轻松完成了订单。",
                    },
                    scale=default_scale("ces"),
                ),
                QuestionIn(
                    type="text",
                    text={"en": "What made it hard?", "zh": "哪里让您觉得困难？"},
                    required=False,
                    show_if={"question": 0, "min": 1, "max": 4},
                ),
            ],
            settings={"display_option": "always", "recontact_days": 30, "delay_seconds": 2},
        ),
        SurveyTemplate(
            key="churn_exit",
            title=_("Churn exit survey"),
            description=_("Why a customer cancels — one choice and a comment."),
            name="Cancellation reasons",
            questions=[
                QuestionIn(
                    type="single_choice",
                    text={"en": "Why are you cancelling?", "zh": "您为什么要取消？"},
                    choices=[
                        {"en": "Too expensive", "zh": "价格太高"},
                        {"en": "Missing features", "zh": "缺少功能"},
                        {"en": "Switched to another product", "zh": "换用了其他产品"},
                        {"en": "No longer needed", "zh": "不再需要"},
                        {"en": "Other", "zh": "其他"},
                    ],
                ),
                QuestionIn(
                    type="text",
                    text={"en": "Anything we could have done?", "zh": "我们本可以做些什么？"},
                    required=False,
                ),
            ],
            settings={
                "display_option": "once",
                "bypass_global_cooldown": True,
                "recontact_days": 0,
                "priority": 10,
            },
        ),
        SurveyTemplate(
            key="blank",
            title=_("Blank"),
            description=_("One open question to start from."),
            name="New survey",
            questions=[
                QuestionIn(type="text", text={"en": "What's on your mind?", "zh": "您有什么想法？"})
            ],
        ),
    )
}
