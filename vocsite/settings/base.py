"""Settings shared by every run mode; values come from the environment (django-environ).

The run modes (DESIGN.md §8) only override what differs: `local` (embedded default:
SQLite, in-process tasks), `test`, and `production` (full mode: PostgreSQL, Redis, gunicorn).
"""

from datetime import timedelta
from pathlib import Path

import certifi
import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.contrib.messages import constants as message_constants

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The public address of this vocsite install: used in e-mail links and the embed snippet.
VOCSITE_BASE_URL = env("VOCSITE_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "vocsite",
    "surveys",
    "feedback",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "vocsite.csp.CSPMiddleware",  # Content-Security-Policy on pages (CONTENT_SECURITY_POLICY below)
    # Before anything reads the path, query or body: NUL and undecodable input get a 400;
    # also the one handler of ApplicationError on staff pages (vocsite/middleware.py).
    "vocsite.middleware.HostileInputMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Staff pages in the browser's language; customer texts choose their own (vocsite/i18n.py).
    "vocsite.i18n.StaffLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

# Content-Security-Policy on every page (django-csp): scripts and styles from this site's
# static files only — no inline script, event handler or style attribute in templates/ (the
# hosted page's brand colour is the one inline style, allowed by its nonce); no framing.
# Pages that embed the widget allow inline styles for its Shadow DOM (vocsite/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Staff logins: after AXES_FAILURE_LIMIT failures for one username from one IP, that pair is
# locked out for AXES_COOLOFF_TIME (429 with an explanation); a success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False  # no banner on every start; lockouts are still logged
# The client's address, for lockouts as for the widget's rate limit: vocsite.client_address.
AXES_CLIENT_IP_CALLABLE = "vocsite.client_address.client_address"

# How many proxies of our own (load balancer, CDN) stand in front and append to
# X-Forwarded-For. 0: the header is ignored (a client could forge it) and REMOTE_ADDR is the
# client; N: the N-th address from the right of X-Forwarded-For is.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

ROOT_URLCONF = "vocsite.urls"
WSGI_APPLICATION = "vocsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "surveys.tenancy.staff.staff_context",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'vocsite.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL (server-side binding), so a statement that runs
    # again and again on one connection — the visitor's contact and ledger on every decide —
    # is prepared once (after DATABASE_PREPARE_THRESHOLD runs) and never planned again:
    # planning it cost PostgreSQL 0.36 ms per decide, four times its execution. Behind a
    # pooler in transaction mode without prepared-statement support, set the threshold to
    # "off" (README, "Operating").
    _threshold = env("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "server_side_binding": True,
        "prepare_threshold": None if _threshold == "off" else int(_threshold),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process scheduler write while a request reads; IMMEDIATE transactions
    # take the write lock up front, so two concurrent claims serialise instead of deadlocking.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A cache outage must not fail requests: rate limits fail open, config is
                # recomputed. Socket timeouts keep a dead Redis from stalling a request.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The staff pages show a message as a Bootstrap alert named after its level's tag: every
# level's tag is one of Bootstrap's alert colours ("error" and "debug" are not).
MESSAGE_TAGS = {
    message_constants.DEBUG: "secondary",
    message_constants.INFO: "info",
    message_constants.SUCCESS: "success",
    message_constants.WARNING: "warning",
    message_constants.ERROR: "danger",
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/app/"
LOGOUT_REDIRECT_URL = "login"

# Fixed texts are written in English and translated in locale/ (`make messages`); the
# compiled .mo files are committed, so running needs no GNU gettext.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail goes through Django's e-mail backend; the URL picks it (smtp://, consolemail://...).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="vocsite <no-reply@vocsite.local>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "surveys.tenancy.api_auth.SecretKeyAuthentication",
        "surveys.tenancy.api_auth.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["surveys.tenancy.api_auth.IsProjectMember"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["vocsite.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "surveys.tenancy.schema.AutoSchema",
    "EXCEPTION_HANDLER": "vocsite.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # DRF's own client-address rule (BaseThrottle.get_ident) trusts the same proxies; ours
    # (vocsite.client_address) is the one the throttles use.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "vocsite API",
    "DESCRIPTION": "Widget API (public key) and server/management API (secret key or session).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The widget API's plain views, described from the msgspec types they validate with.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "vocsite.json_api_schema.add_lean_operations",
    ],
    # Swagger UI served from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "feedback.models.CaseStatus",
        "CasePriorityEnum": "feedback.models.CasePriority",
        "ContactMethodEnum": "feedback.models.ContactMethod",
        "DeliveryStatusEnum": "feedback.models.DeliveryStatus",
        "WebhookEventEnum": "feedback.models.WebhookEvent",
        "ChannelEnum": "surveys.models.Channel",  # a touchpoint's business channel
        "SurveyChannelEnum": "surveys.models.SurveyChannel",  # how a survey reached someone
    },
}

# Celery: with no broker configured the tasks run in-process (eagerly) after commit.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when Redis is down: the row is committed and the sweeper
# re-enqueues it later, so a request never hangs on the broker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"
# Celery's Django fix-up closes the database connection around every task unless told to
# reuse it: each task then paid a new PostgreSQL backend (fork, authentication, cold catalog
# caches; measured 512 new connections in 40 s of load). Connections are reused instead, and
# vocsite/celery.py applies CONN_MAX_AGE and the broken-connection check around each task,
# as Django does around each request.
CELERY_DB_REUSE_MAX = 1_000_000

# One beat schedule for every periodic job (CONVENTIONS: expires ≈ 1.5 × interval). In the
# embedded mode the same table is run by vocsite.scheduler inside the web process.
CELERY_BEAT_SCHEDULE = {
    "sweep-unprocessed-responses": {
        "task": "feedback.tasks.pipeline.sweep_unprocessed",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 90},
    },
    "expire-stale-claims": {
        "task": "surveys.tasks.expire_stale_claims",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 90},
    },
    "escalate-overdue-cases": {
        "task": "feedback.tasks.escalate_overdue_cases",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 450},
    },
    "send-due-invitations": {
        "task": "surveys.tasks.send_due_invitations",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 90},
    },
    "retry-due-webhooks": {
        "task": "feedback.tasks.retry_due_webhooks",
        "schedule": timedelta(seconds=20),
        "options": {"expires": 30},
    },
    # On the hour: each subscriber's weekly digest goes out at Monday 08:00 where they are.
    "send-due-digests": {
        "task": "metrics.tasks.send_due_digests",
        "schedule": crontab(minute=0),
        "options": {"expires": 5400},
    },
}

# Outgoing webhooks: every call has a timeout; failed attempts back off exponentially with
# jitter (15 s, 30 s, 1 min … capped at 6 h) until WEBHOOK_MAX_ATTEMPTS, then stay replayable.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600)
# Receivers on private or loopback addresses: fine on a laptop, refused in production (SSRF).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=True)
# Certificate authorities an https receiver's certificate must chain to (Mozilla's, by default).
WEBHOOK_CA_BUNDLE = env("WEBHOOK_CA_BUNDLE", default=certifi.where())
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

VOCSITE_EMBEDDED_SCHEDULER = env.bool("VOCSITE_EMBEDDED_SCHEDULER", default=False)
# Widget rate limits (requests per minute) per client IP and per visitor.
WIDGET_RATE_LIMIT_PER_IP = env.int("WIDGET_RATE_LIMIT_PER_IP", default=600)
WIDGET_RATE_LIMIT_PER_VISITOR = env.int("WIDGET_RATE_LIMIT_PER_VISITOR", default=120)
# How often each web process adds its rate-limit counts to the shared ones in Redis
# (vocsite.rate_limit); 0 counts every call in Redis at once (exact, one round trip a call).
RATE_LIMIT_SYNC_SECONDS = env.float("RATE_LIMIT_SYNC_SECONDS", default=0.1 if REDIS_URL else 0.0)
# How long a web process keeps a project (looked up by public key) in memory.
WIDGET_PROJECT_CACHE_SECONDS = env.int("WIDGET_PROJECT_CACHE_SECONDS", default=30)
# Decide's daily counters (analytics) are counted in memory and added to the database this often
# by each web process (surveys.delivery.decision_log); 0 adds each decide inline. Batched on
# PostgreSQL, inline on SQLite.
# Finished responses' processing tasks are published in one message per this interval per web
# process (feedback.answering.pipeline); 0 publishes each on commit. Batched when the broker is Redis.
RESPONSE_PUBLISH_BATCH_SECONDS = env.float(
    "RESPONSE_PUBLISH_BATCH_SECONDS", default=0.2 if REDIS_URL else 0.0
)
# The widget's install status (which origins call, which are refused) is noted in memory and
# written this often by each web process (surveys.delivery.origin_log); 0 writes each call's note.
WIDGET_ORIGIN_FLUSH_SECONDS = env.float(
    "WIDGET_ORIGIN_FLUSH_SECONDS",
    default=10.0 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 0.0,
)
DECISION_FLUSH_SECONDS = env.float(
    "DECISION_FLUSH_SECONDS",
    default=1.0 if DATABASES["default"]["ENGINE"].endswith("postgresql") else 0.0,
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
