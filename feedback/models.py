"""The feedback app's models, defined by concern in its sub-packages and collected here for Django
and for the migrations that name their default callables."""

from feedback.answering.models import (  # noqa: F401
    Answer,
    Feedback,
    FeedbackStatus,
    ProcessingFailure,
    Response,
    Sentiment,
)
from feedback.cases.models import (  # noqa: F401
    OPEN_CASE_STATUSES,
    SLA_HOURS_MAX,
    AlertRule,
    Assignment,
    Case,
    CaseEvent,
    CasePriority,
    CaseStatus,
    ContactMethod,
    RootCause,
)
from feedback.topics.models import (  # noqa: F401
    RetagRun,
    RetagStatus,
    Tag,
    TagSource,
    Topic,
)
from feedback.webhooks.models import (  # noqa: F401
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    new_webhook_secret,
)
