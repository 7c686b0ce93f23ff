"""Settings for the outreach case and encounter management service.

One module for every environment: production differs only by environment
variables. Defaults are safe for a laptop: an SQLite file, DEBUG off unless
asked for, e-mail printed to the console.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from config.databases import tuned

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A fixed development key is only acceptable while DEBUG is on or for local
# management commands: with DEBUG off the app refuses to serve on it (see
# PRODUCTION_PROBLEMS below). It also encrypts the TOTP secrets.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "import_export",
    "simple_history",
    "outreach",
    "networks",
    "encounters",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (a field page's HTML to about a fifth: docs/SCALING.md "Page weight"); static
    # files are whitenoise's, compressed ahead of time, and never reach it. Django pads each compressed
    # response with random bytes against BREACH, and masks the CSRF token per response.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Change history (django-simple-history) records the signed-in user of the request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "outreach.middleware.SessionTimeoutMiddleware",
    "outreach.middleware.RequireMfaMiddleware",
    "outreach.middleware.NoStoreMiddleware",
    "outreach.middleware.ClearSiteDataOnSignOutMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# A read replica for the reports (a PostgreSQL streaming standby): report,
# dashboard and export reads go there, everything else to the primary
# (outreach.replica.ReplicaRouter; docs/SCALING.md).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    # A test run that has a replica configured reads the test database through it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["outreach.replica.ReplicaRouter"]
for _database in DATABASES.values():
    tuned(_database)
# The person rollup's covering index (INCLUDE columns) is PostgreSQL's: SQLite builds it without
# them, as intended, and would warn about it at every migrate and check.
if all(database["ENGINE"] == "django.db.backends.sqlite3" for database in DATABASES.values()):
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "outreach.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Its error message is translated in our catalogue (outreach/password_validation.py).
    {"NAME": "outreach.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Caches hold allauth's rate-limit counters and the TOTP codes already used:
# with several server processes they must be shared, or the same code signs
# in twice on two workers. CACHE_URL=redis://… uses Redis, CACHE_URL=db://TABLE
# the database (run `manage.py createcachetable` once).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL.startswith("db://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_URL.removeprefix("db://") or "django_cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if CACHE_URL.startswith(("redis://", "rediss://")):
    # With a shared cache, a request reads its session from the cache and the
    # database only on a miss; writes still reach the database.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# How many server processes run: gunicorn takes its default number of
# workers from this variable, so set the worker count here (and nowhere
# else). Above 1 the cache must be shared.
WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", "1") or "1")

# Sign-in: e-mail and password, no public sign-up (admins create users and
# the user sets a password from an e-mailed link), TOTP with recovery codes.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "outreach.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, written out so that they are visibly on.
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Administrators manage users' addresses: a user cannot add a second one
# (which would also sign in), and a reset asked for an unknown address sends
# nothing (allauth's default mail would invite the stranger to sign up).
ACCOUNT_MAX_EMAIL_ADDRESSES = 1
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Rate limits count per client IP: behind a reverse proxy every request would
# otherwise share the proxy's address, and ten failures anywhere would lock
# everyone out.
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if env_bool("BEHIND_PROXY") else "0"))
# Absolute links in e-mails sent outside a request (invitations).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# allauth refuses a second factor while an address is unverified, against a
# stranger signing up with someone else's address. Nobody signs up here and
# administrators set the addresses, while allauth marks an address it adds
# for a user made with createsuperuser as unverified: coordinators and admins,
# who must set up TOTP, would be stuck.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# The setup page keeps one secret until the activation succeeds (outreach/mfa.py).
MFA_FORMS = {"activate_totp": "outreach.mfa.ActivateTOTPForm"}
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Etsivä työ")
# API keys stop working this many days after they are made; making one
# needs a sign-in (with the second factor, for those who have one) within
# the last API_TOKEN_SIGN_IN_MAX_AGE seconds.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("API_TOKEN_LIFETIME_DAYS", "90"))
API_TOKEN_SIGN_IN_MAX_AGE = int(os.environ.get("API_TOKEN_SIGN_IN_MAX_AGE", str(15 * 60)))
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
# A session ends after 30 minutes without requests and 12 hours after it
# began, whatever happens (outreach.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_ABSOLUTE_TIMEOUT = int(os.environ.get("SESSION_ABSOLUTE_TIMEOUT", str(12 * 60 * 60)))
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
# What the field pages keep on the device for work without a connection (the
# page copies of the service worker and the outbox of entries not yet sent) is
# deleted after this long without use, besides on sign-out and a change of user.
OFFLINE_IDLE_TIMEOUT = int(os.environ.get("OFFLINE_IDLE_TIMEOUT", str(12 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": os.environ.get("STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage")
    },
}
if DEBUG:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# The console backend prints password-reset and invitation links: only for
# DEBUG. Without DEBUG the default is SMTP (which fails rather than leaks),
# and the app refuses to serve until EMAIL_BACKEND names a real backend.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "etsiva@example.org")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers. Cookies are HTTPS-only whenever DEBUG is off, whatever
# the database; a laptop run over http uses DEBUG (or SECURE_COOKIES=false).
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything is served by the app itself: no CDN, no tracker, no inline
# script. Inline style attributes stay allowed for the API docs (Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The API (see outreach/drf.py for its conventions). Token authentication
# comes first so that a request without credentials gets 401 with a
# `WWW-Authenticate: Token` challenge.
# List APIs count exactly up to this many rows, above it they give PostgreSQL's estimate
# (outreach.api_support.BoundedCountPaginator).
API_EXACT_COUNT_LIMIT = int(os.environ.get("API_EXACT_COUNT_LIMIT", "10000"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "outreach.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["outreach.api_support.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "outreach.drf.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "outreach.api_support.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "outreach.drf.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Outreach API",
    "DESCRIPTION": (
        "Outreach case and encounter management. Authenticate with a session (browser) or with "
        "`Authorization: Token KEY` (make a key on the page /account/tokens/). Lists are paginated "
        "(`page`, `page_size` up to 500). Vocabulary fields take the stable codes listed in each schema. "
        "Creates of encounters, referrals and tally taps accept a client-generated `client_uuid`: a repeat "
        "with the same content answers 200 with the first record, different content 409."
    ),
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Vocabulary fields of the same name mean different things in different
    # resources (an outing's status is not a referral's); name each enum.
    "ENUM_NAME_OVERRIDES": {
        "OutingStatusEnum": "outreach.vocabulary.OutingStatus",
        "ReferralStatusEnum": "outreach.vocabulary.ReferralStatus",
        "GenderEnum": "outreach.vocabulary.Gender",
        "ContactKindEnum": "outreach.vocabulary.ContactKind",
        "SiteTypeEnum": "outreach.vocabulary.SiteType",
        "RoleEnum": "outreach.vocabulary.Role",
        "ServiceKindEnum": "outreach.vocabulary.ServiceKind",
        "NeedEnum": "outreach.vocabulary.Need",
        "ActionEnum": "outreach.vocabulary.Action",
        "AgeGroupEnum": "outreach.vocabulary.AgeGroup",
        "DepthEnum": "outreach.vocabulary.Depth",
        "ConsentScopeEnum": "encounters.models.Consent.Scope",
        "PersonKindEnum": "encounters.models.Person.Kind",
        "PartnerKindEnum": "networks.models.PartnerOrganisation.Kind",
        "NetworkKindEnum": "networks.models.Network.Kind",
    },
}
# Request bodies (JSON included, see outreach.api_support.LimitedJSONParser) above
# this size get 413; uploaded files are not counted here.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

IMPORT_EXPORT_USE_TRANSACTIONS = True

# Logs never carry personal data: messages name record ids, not people.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies can hold client data; keep Django's request logger
        # to the status line.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}


def production_problems() -> list[str]:
    """What keeps these settings from serving real users with DEBUG off (empty when DEBUG is on).

    config/wsgi.py and config/asgi.py refuse to start on any of them (and so
    does `runserver`, which loads the WSGI application), and `check --deploy`
    reports them. Management commands (migrate, makemigrations --check, the
    test suite) still run, so a laptop without DEBUG can maintain a database.
    """
    if DEBUG:
        return []
    problems = []
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY must be set to a long random value (50 characters or more).")
    explicit_backend = os.environ.get("EMAIL_BACKEND", "")
    if not explicit_backend or explicit_backend.rsplit(".", 2)[-2] in {"console", "locmem", "dummy", "filebased"}:
        problems.append(
            "EMAIL_BACKEND must name a real e-mail backend (e.g. django.core.mail.backends.smtp.EmailBackend)."
        )
    if WEB_CONCURRENCY > 1 and CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        problems.append("WEB_CONCURRENCY is above 1: set CACHE_URL to Redis (redis://…) or the database (db://TABLE).")
    return problems


PRODUCTION_PROBLEMS = production_problems()

# Period reports: counts below this leave the system as "<5"; client feedback
# is broken down only from this many answers on.
REPORTS_SUPPRESSION_THRESHOLD = int(os.environ.get("REPORTS_SUPPRESSION_THRESHOLD", "5"))
REPORTS_FEEDBACK_MIN_ANSWERS = int(os.environ.get("REPORTS_FEEDBACK_MIN_ANSWERS", "7"))
# The period report and the dashboard list the newest so many client comments.
REPORTS_FEEDBACK_COMMENTS_MAX = int(os.environ.get("REPORTS_FEEDBACK_COMMENTS_MAX", "100"))

# Privacy -----------------------------------------------------------------------
# A person's access log covers this many days unless the coordinator types a
# reason for reading further back (the reason is logged too).
ACCESS_LOG_DEFAULT_DAYS = int(os.environ.get("ACCESS_LOG_DEFAULT_DAYS", "730"))
# A referral's confirmation link for the partner expires after this many days.
REFERRAL_CONFIRMATION_DAYS = int(os.environ.get("REFERRAL_CONFIRMATION_DAYS", "30"))
# The partner's link pages answer at most this many requests per client in the window (seconds);
# the client is counted by a salted hash of its address, which is not stored.
PARTNER_LINK_RATE_LIMIT = int(os.environ.get("PARTNER_LINK_RATE_LIMIT", "30"))
PARTNER_LINK_RATE_WINDOW = int(os.environ.get("PARTNER_LINK_RATE_WINDOW", "600"))
# The retention policy that `manage.py retention` applies (the county's
# retention schedule sets the figures): the free text of anonymous encounters
# is cleared after this many months; persons with no contact for this many
# years are flagged for review, or pseudonymised when RETENTION_PERSON_ACTION
# is "pseudonymise". Persons under a legal hold are left alone.
RETENTION_ANONYMOUS_NOTES_MONTHS = int(os.environ.get("RETENTION_ANONYMOUS_NOTES_MONTHS", "24"))
RETENTION_PERSON_YEARS = int(os.environ.get("RETENTION_PERSON_YEARS", "5"))
RETENTION_PERSON_ACTION = os.environ.get("RETENTION_PERSON_ACTION", "flag")
# Change history is read in the admin, never reverted from it: every write goes through the services.
SIMPLE_HISTORY_REVERT_DISABLED = True
# Client feedback and surveys: submissions per address and per link (or
# survey) in a window of seconds. A kiosk in a busy day centre stays well
# under the address limit; a script does not.
FEEDBACK_RATE_WINDOW = int(os.environ.get("FEEDBACK_RATE_WINDOW", "600"))
FEEDBACK_RATE_PER_ADDRESS = int(os.environ.get("FEEDBACK_RATE_PER_ADDRESS", "60"))
FEEDBACK_RATE_PER_LINK = int(os.environ.get("FEEDBACK_RATE_PER_LINK", "300"))
