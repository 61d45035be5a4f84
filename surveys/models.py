"""The surveys app's models, defined by concern in its sub-packages and collected here for Django
and for the migrations that name their default callables."""

from surveys.contacts.models import (  # noqa: F401
    Contact,
    LifecycleChange,
    LifecycleKind,
    LifecycleStatus,
    OperationalEvent,
    VisitorId,
)
from surveys.delivery.models import (  # noqa: F401
    DecisionCount,
    DecisionReason,
    Display,
    DisplayStatus,
    Invitation,
    InvitationStatus,
    LinkMode,
    SurveyLink,
    WidgetOrigin,
    new_link_token,
)
from surveys.design.models import (  # noqa: F401
    SCORED_TYPES,
    DisplayOption,
    Question,
    QuestionType,
    Survey,
    SurveyChannel,
    SurveyStatus,
    SurveyVersion,
    default_survey_channels,
)
from surveys.journey.models import (  # noqa: F401
    JourneyStage,
    Touchpoint,
)
from surveys.tenancy.models import (  # noqa: F401
    ApiKey,
    AuditEntry,
    AuditEntryQuerySet,
    AuditLogIsAppendOnly,
    Channel,
    MemberInvitation,
    MemberInvitationStatus,
    Membership,
    Project,
    Role,
    StaffPreference,
    Team,
    TeamMembership,
    hash_secret_key,
    new_identity_secret,
    new_public_key,
)
