"""Settings for the housing-safety case-management system.

Everything comes from the environment; the defaults suit a laptop (SQLite, DEBUG on, e-mail to the
console, Celery tasks inline). DJANGO_ENV=production refuses to start without its secrets.
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from housing_safety.storage_settings import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    missing = [
        name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CACHE_URL") if not env.str(name, default="")
    ]
    if missing:
        raise ImproperlyConfigured(f"DJANGO_ENV=production requires these environment variables: {', '.join(missing)}")

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
# Rotating SECRET_KEY: the old key here keeps sessions and complaint query codes (keyed with it) valid.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "housing_safety.admin_site.AdminConfig",  # django.contrib.admin with the project's site (admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "simple_history",
    "django_celery_beat",
    "django_ratelimit",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files as our static files (no CDN on the intranet)
    "housing_safety",
    "households",
    "inspections",
    "rectification",
    "reporting",
    "fieldwork",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # early: every answer carries the policy, the 429 and 503 pages too
    "housing_safety.middleware.DatabaseUnavailableMiddleware",  # a database that is down: 503, not a server error
    "housing_safety.request_id.RequestIdMiddleware",  # early: every log line of the request carries its id
    "django.contrib.sessions.middleware.SessionMiddleware",
    "housing_safety.middleware.ChineseFirstLocaleMiddleware",
    "housing_safety.middleware.NulInQueryMiddleware",  # after the language: its 400 page is in Chinese
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "housing_safety.api.logging_middleware.ApiLogMiddleware",  # one log line per API call (after the user is known)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",  # turns a blocked request into RATELIMIT_VIEW's 429
    "housing_safety.middleware.SessionIdleMiddleware",
    "housing_safety.middleware.PasswordChangeRequiredMiddleware",
    "housing_safety.middleware.ClearSiteDataOnLogoutMiddleware",  # a logout wipes the field app's data on the phone
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out login into the lockout page
]

if PRODUCTION:
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "housing_safety.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "housing_safety.workspace.shell",
            ],
        },
    },
]

WSGI_APPLICATION = "housing_safety.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles every large aggregate for about 0.4 s, more than the whole query costs here
    # (measured on the province dashboard: 1.34 s with JIT, 0.9 s without); the pages are short queries.
    # A server-side cursor (Django's .iterator()) is read here to its end, always (exports, the reports' lists):
    # PostgreSQL's default plans it for its first tenth, which read the 425,000 late placards at 500,000 households
    # in 2.7 s instead of 1.6 (cursor_tuple_fraction).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = env.str(
        "PG_OPTIONS", default="-c jit=off -c cursor_tuple_fraction=1"
    )
    # A database that is down or unreachable answers the page in seconds with the 503 page
    # (housing_safety.middleware.DatabaseUnavailableMiddleware) instead of holding the request until the client
    # gives up; libpq's default is to wait for the operating system (minutes when packets are dropped).
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("PG_CONNECT_TIMEOUT", default=5)
# A persistent connection (CONN_MAX_AGE) that died with a database restart is noticed at the start of the next
# request and replaced, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL read replica, read only by the dashboard and the exports (housing_safety/db_router.py: they opt in
# with use_replica(); everything else reads the primary, so a user always sees what they just saved).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db("DATABASE_REPLICA_URL"),
        # The primary's connection settings: persistent connections, session options (JIT off), timeouts.
        **{key: value for key, value in DATABASES["default"].items() if key.startswith(("ATOMIC", "CONN_"))},
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},  # tests never create a second database for it
    }
    DATABASE_ROUTERS = ["housing_safety.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等级保护 (MLPS 2.0) asks for mixed character classes, and a forced change must really change the password.
    {"NAME": "housing_safety.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "housing_safety.passwords.NotCurrentPasswordValidator"},
]
# django-axes: the login form is locked for a user name after AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_TIME.
# By user name, not by address: the townships reach the bureau through one government network (one NAT address),
# so locking an address would lock out a whole township. A bureau administrator can lift a lock early in the admin.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_META_PRECEDENCE_ORDER = [env.str("RATELIMIT_IP_META_KEY", default="") or "REMOTE_ADDR"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages from the npm registry (package.json, installed by `make install` with npm ci), served as our own
# static files: the bureau's intranet has no CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules/bootstrap/dist"),
    ("vendor/bootstrap-icons", BASE_DIR / "node_modules/bootstrap-icons/font"),
    ("vendor/idb", BASE_DIR / "node_modules/idb/build"),  # IndexedDB with promises, for the field app (static/field/)
]
STORAGES = {
    # Uploaded files are government archive: kept outside the web root and served only through
    # households.views.attachment_download, which checks the user's scope. MEDIA_ROOT on one server; a private
    # S3-compatible bucket when MEDIA_S3_BUCKET is set (several web hosts; housing_safety/storage_settings.py).
    "default": media_storage(os.environ),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# No URL route serves MEDIA_ROOT (the web server must not either); this prefix only exists because
# Django's test live server expects one.
MEDIA_URL = "/media-not-served/"
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
# A photo is decoded to be re-encoded without its metadata; a few KB can claim billions of pixels ("pixel flood").
ATTACHMENT_MAX_PIXELS = env.int("ATTACHMENT_MAX_PIXELS", default=60_000_000)
# `manage.py backup` (make backup) writes a timestamped folder here: the database dump and MEDIA_ROOT's tar.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "backups")
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

# Caches: Redis when CACHE_URL is set (production: shared by all web processes, so rate limits hold);
# a laptop uses process memory.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
RATELIMIT_VIEW = "housing_safety.views.rate_limited"
# Behind a reverse proxy, the client address is in a header the proxy sets (e.g. HTTP_X_REAL_IP).
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None
# django-ratelimit 4.1 predates Django's built-in RedisCache, which does support the atomic incr it needs (W001).
# On a laptop one process shares its memory cache, so its "shared cache" error E003 does not apply there.
# axes.W006 asks to lock by address too; see AXES_LOCKOUT_PARAMETERS for why we lock by user name only.
# models.W047: SQLite (the laptop's demo) cannot keep an Idempotency-Key's unique constraint with NULLs not distinct;
# PostgreSQL, where two retries can race, does.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "axes.W006"] + ([] if PRODUCTION else ["django_ratelimit.E003"])
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    SILENCED_SYSTEM_CHECKS.append("models.W047")

# Housing-safety rules the bureau may change (DOMAIN.md: general knowledge is configuration, not code).
APPRAISAL_DEADLINE_MONTHS = env.int("APPRAISAL_DEADLINE_MONTHS", default=1)
SUPERVISION_HOTLINE = env.str("SUPERVISION_HOTLINE", default="0597-7526007")
PLACARD_DEADLINE = env.str("PLACARD_DEADLINE", default="06-30")  # month-day, each year
# "一经鉴定为危房，即行整改": days after a C/D appraisal by which a renovation case (or safe housing elsewhere) must
# exist; and the plan's first-half deadline (month-day) for new households' renovations (the year registered, or
# the next for those registered after it).
DANGEROUS_ACTION_DAYS = env.int("DANGEROUS_ACTION_DAYS", default=30)
RENOVATION_DEADLINE = env.str("RENOVATION_DEADLINE", default="06-30")
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")  # what placard QR codes point at
PLACARD_VERIFY_RATE = env.str("PLACARD_VERIFY_RATE", default="30/m")
PROBLEM_DEFAULT_DAYS = env.int("PROBLEM_DEFAULT_DAYS", default=30)  # deadline of a problem opened by a finding
# The plan's problem list "明确时间表": days to the deadline of a problem a finding opens, by its kind (a kind not named
# takes PROBLEM_DEFAULT_DAYS). A setting, not a table: the plan names no figure, these are the bureau's operating
# defaults chosen once for the campaign, and each problem's own deadline stays editable. "kind=days,kind=days".
PROBLEM_DAYS_BY_KIND = env.dict(
    "PROBLEM_DAYS_BY_KIND",
    cast={"value": int},
    default={
        "lives_in_old_dangerous": 15,  # a family sleeping in a dangerous house: out first
        "new_damage": 30,  # "发现问题的即行整改"
        "leaking": 30,
        "connected_hazard": 90,  # a neighbour who refuses to reinforce takes negotiation
        "placard_missing": 15,
        "missing_documents": 30,
        "data_mismatch": 15,
    },
)
# Renovation cases: the shortest public posting (days, both ends counted), when a case without a move counts as
# stalled, and within how many days of completion acceptance the subsidy is due.
RENOVATION_POSTING_DAYS = env.int("RENOVATION_POSTING_DAYS", default=7)
RENOVATION_STALLED_DAYS = env.int("RENOVATION_STALLED_DAYS", default=30)
RENOVATION_PAYMENT_DAYS = env.int("RENOVATION_PAYMENT_DAYS", default=30)
# Complaints and leads: outgoing leads without a receipt after this many days are flagged; the public progress
# lookup's rate per IP.
LEAD_RECEIPT_DAYS = env.int("LEAD_RECEIPT_DAYS", default=7)
COMPLAINT_LOOKUP_RATE = env.str("COMPLAINT_LOOKUP_RATE", default="10/m")
COMPLAINT_TICKET_RATE = env.str("COMPLAINT_TICKET_RATE", default="20/h")  # lookups of one ticket, from anywhere
# lookups from one address over all tickets (random ticket numbers escape the per-ticket limit)
COMPLAINT_LOOKUP_ADDRESS_RATE = env.str("COMPLAINT_LOOKUP_ADDRESS_RATE", default="100/d")
# Reporting: units report before the 23rd at 18:00 (when the consolidated report is built); the year-end summary
# is due 10 November. Besides the bureau's officials, these addresses receive the consolidated report; the quarterly
# lead report also goes to the city discipline commission's address.
REPORT_DUE_DAY = env.int("REPORT_DUE_DAY", default=23)
REPORT_CUTOFF_HOUR = env.int("REPORT_CUTOFF_HOUR", default=18)
YEAR_END_SUMMARY_DUE = env.str("YEAR_END_SUMMARY_DUE", default="11-10")  # month-day
REPORT_RECIPIENTS = env.list("REPORT_RECIPIENTS", default=[])
DISCIPLINE_COMMISSION_EMAIL = env.str("DISCIPLINE_COMMISSION_EMAIL", default="")

# Department lists up to this size are compared while the clerk waits (about 40,000 rows); larger ones in the
# background with a progress bar.
LIST_INLINE_MAX_BYTES = env.int("LIST_INLINE_MAX_BYTES", default=2 * 1024 * 1024)
# Uploaded spreadsheets (department lists, the admin's imports) are checked before they are read
# (housing_safety/spreadsheets.py): the file's size; what an .xlsx's parts unpack to, in total and for the shared
# strings (kept in memory while the sheet is read); how hard any large part may be compressed (an ordinary sheet is
# 5-20 to 1, a zip bomb up to 1,000 to 1). While reading: the shared strings counted, the columns a row may use.
# An admin import holds its rows in memory and runs each through the services, hence its own row limit.
SPREADSHEET_MAX_BYTES = env.int("SPREADSHEET_MAX_BYTES", default=50 * 1024 * 1024)
SPREADSHEET_MAX_UNPACKED_BYTES = env.int("SPREADSHEET_MAX_UNPACKED_BYTES", default=512 * 1024 * 1024)
SPREADSHEET_MAX_SHARED_STRINGS_BYTES = env.int("SPREADSHEET_MAX_SHARED_STRINGS_BYTES", default=64 * 1024 * 1024)
SPREADSHEET_MAX_SHARED_STRINGS = env.int("SPREADSHEET_MAX_SHARED_STRINGS", default=1_000_000)
SPREADSHEET_MAX_RATIO = env.int("SPREADSHEET_MAX_RATIO", default=100)
SPREADSHEET_MAX_COLUMNS = env.int("SPREADSHEET_MAX_COLUMNS", default=256)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20_000)
# Reconciliation figures per department are recomputed at most this often for the same uploads.
RECONCILIATION_CACHE_SECONDS = env.int("RECONCILIATION_CACHE_SECONDS", default=300)
# Province-wide summary tables shown above a list (e.g. revisits per township) are kept this long.
SUMMARY_CACHE_SECONDS = env.int("SUMMARY_CACHE_SECONDS", default=300)
# The dashboard's maintained figures (reporting.rollup): refreshed every this many minutes (the beat schedule,
# migration reporting 0012), each refresh also re-reading the changes of this many minutes before the last one.
FIGURES_REFRESH_MINUTES = env.int("FIGURES_REFRESH_MINUTES", default=5)
FIGURES_REFRESH_OVERLAP_MINUTES = env.int("FIGURES_REFRESH_OVERLAP_MINUTES", default=10)
# Exports for the provincial system above this many rows are built in the background.
EXPORT_INLINE_MAX_ROWS = env.int("EXPORT_INLINE_MAX_ROWS", default=50_000)
# Retention of files with personal data (the nightly purge_old_files job): background exports after this many days,
# departments' uploaded lists this many days after upload once they have been read (their comparison rows stay).
EXPORT_FILE_RETENTION_DAYS = env.int("EXPORT_FILE_RETENTION_DAYS", default=7)
LIST_FILE_RETENTION_DAYS = env.int("LIST_FILE_RETENTION_DAYS", default=30)

# E-mail: EMAIL_URL (smtp://user:pass@host:port) in production. On a laptop every message is written to a file in
# ./tmp-mail: the demo's and the server's mail can be read there, and the console keeps the logins and the request
# log (a monthly report with its chart and workbook is some 1,300 lines of base64). django-environ drops the first
# slash of a filemail path, hence the extra one before the absolute path.
vars().update(env.email_url("EMAIL_URL", default=f"filemail:///{BASE_DIR / 'tmp-mail'}"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="住建局住房安全系统 <noreply@zhangping.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=20)  # then the outbox row waits for a person

# Celery: Redis when CELERY_BROKER_URL is set, otherwise tasks run inline in the caller.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    # Inline, Celery still takes a producer from its pool for every call (to learn the serializer), and with no broker
    # at all that pool builds a connection to the default AMQP host (kombu logs "No hostname was supplied"). Kombu's
    # in-memory transport instead: nothing is sent or connected, and CELERY_BROKER_URL still says there is no broker.
    CELERY_BROKER_WRITE_URL = "memory://localhost"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
# A task's message is acknowledged when the task has finished, not when a worker takes it, so a job whose worker
# dies is run again; every task is idempotent (the same job and date twice leaves one report and sends one e-mail;
# housing_safety/tests/test_worker_crash.py kills workers mid-job).
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool process killed mid-task (the kernel's OOM killer, a crash) would otherwise count as a failed task whose
# message is acknowledged: the job would be lost. retry_on_worker_lost sends it again as Task.retry does, after
# CELERY_WORKER_LOST_RETRY_DELAY seconds and counted against the task's max_retries, so a task that kills its process
# every time stops after a few attempts; reject_on_worker_lost (unbounded on its own, hence not alone) puts the
# message back on the queue when even that retry cannot be sent.
CELERY_TASK_RETRY_ON_WORKER_LOST = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ANNOTATIONS = {"*": {"default_retry_delay": env.int("CELERY_WORKER_LOST_RETRY_DELAY", default=60)}}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis has no acknowledgements of its own: a message taken by a worker that dies without acknowledging it
    # (SIGKILL, power loss) goes back to the queue once it has been out this long. It must exceed the longest task
    # (time_limit 35 minutes) and the longest retry countdown (deliver_email: 16 minutes), or a task still running or
    # waiting would be handed to a second worker; the crash test sets a few seconds.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # A broker host that is down without refusing connections must not hold a page that enqueues a task (the
    # publish is retried 3 times): give up after seconds, and the task waits for the ten-minute retry.
    "socket_connect_timeout": env.float("CELERY_BROKER_TIMEOUT", default=3),
    "socket_timeout": env.float("CELERY_BROKER_TIMEOUT", default=3),
    # Several installations (or test runs) sharing one Redis keep apart their queues and their unacknowledged
    # messages (which any worker of the same keys would put back on the queue after its own visibility_timeout).
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=""),
}
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
DJANGO_CELERY_BEAT_TZ_AWARE = True

# django-import-export: import needs "add", export needs "view"; Excel first. Formulae are neutralised by the
# resources (households.resources.ScopedResource.export_field, through housing_safety.excel.safe_cell) rather than
# by import-export's own escaping, which only drops a leading "=" and turns every number into text.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Reverting to an old version would bypass the services' rules; history stays read-only.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Sessions end after SESSION_IDLE_SECONDS without a request (housing_safety.middleware.SessionIdleMiddleware), and
# when the browser closes.
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content security policy (django-csp): only this site's own scripts, styles, images and forms; no inline script
# or style anywhere. The two hashes allow the style attributes in django-import-export's export page
# ("padding: 0;" and "font-weight: bold;") and the one in django-simple-history's list ("border-top: 0").
from csp.constants import NONE, SELF, UNSAFE_HASHES  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [
            SELF,
            UNSAFE_HASHES,
            "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",
            "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",
            "'sha256-XMXSevYjgSjXgRafBFDvtjwX+yyWLrxfso9DcNZ9UXM='",
        ],
        "img-src": [SELF, "data:", "blob:"],  # blob: the field app's photos, shrunk on the phone, previewed
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # A load balancer may check /healthz over plain HTTP (nginx passes it through on port 80); it carries no data.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Logs go to stderr (systemd's journal). In production one JSON object per line for the log collector: time (UTC,
# ISO 8601), level, logger, message, and request_id during a request (housing_safety/request_id.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "housing_safety.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
        "plain": {
            "()": "logging.Formatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            "defaults": {"request_id": "-"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Celery workers log through the configuration above (JSON in production) instead of replacing it with their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Imports and exports: Excel first; CSV for systems that only export text. The registry's admin reads imports
# through its own subclasses of these (households.resources.XLSXImport and CSVImport: checked, streaming, GBK too).
from import_export.formats.base_formats import CSV, XLSX  # noqa: E402

IMPORT_FORMATS = [XLSX, CSV]
EXPORT_FORMATS = [XLSX, CSV]

# The REST API under /api/v1/ (housing_safety/api/, issue 19): keys or the session, each view's resource scope and the
# pages' permissions, errors as {"errors": [{field, code, message}]}, cursor pages, rate limits in the shared cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "housing_safety.api.authentication.ApiKeyAuthentication",
        "housing_safety.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["housing_safety.api.permissions.ScopedPermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "housing_safety.api.throttling.ApiKeyThrottle",
        "housing_safety.api.throttling.ApiUserThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "housing_safety.api.pagination.ApiCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "housing_safety.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "housing_safety.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
}
API_KEY_RATE = env.str("API_KEY_RATE", default="600/min")  # per key (a system syncing pages)
API_USER_RATE = env.str("API_USER_RATE", default="120/min")  # per person (the field app)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=500)
# How long the answer to a POST with an Idempotency-Key is kept for a retry (housing_safety.api.idempotency); purged
# nightly with the expired files (reporting.services.remove_expired_files).
API_IDEMPOTENCY_DAYS = env.int("API_IDEMPOTENCY_DAYS", default=7)
# The offline field app (fieldwork/, docs/field-app.md): a work package on a phone expires after this many days
# (wiped with the entries not yet sent); photos are shrunk on the phone to this longest side (pixels) and JPEG quality.
FIELD_PACKAGE_DAYS = env.int("FIELD_PACKAGE_DAYS", default=7)
FIELD_PHOTO_MAX_SIDE = env.int("FIELD_PHOTO_MAX_SIDE", default=1600)
FIELD_PHOTO_QUALITY = env.float("FIELD_PHOTO_QUALITY", default=0.8)
# The villages' list shows each package's size before it is downloaded: (households + items) × this many bytes,
# measured on a real package (`manage.py bench --only-field`: a village of 300 synthetic households, 170 KB for
# 300 households and 106 items: 430 bytes each, rounded up).
FIELD_PACKAGE_BYTES_PER_ITEM = env.int("FIELD_PACKAGE_BYTES_PER_ITEM", default=430)
SPECTACULAR_SETTINGS = {
    "TITLE": "漳平市农村住房安全管理系统 API",
    "DESCRIPTION": (
        "住建局与其他系统（12345 热线平台、省农房系统、防返贫监测系统）及外业 App 交换数据的接口。"
        "系统用管理员签发的密钥调用（请求头 `Authorization: Api-Key <密钥>`），人员用登录会话调用；"
        "每个密钥对应一个系统账号，范围与该账号的页面完全相同。错误统一为 "
        '`{"errors": [{"field": 字段, "code": 代码, "message": 中文说明}]}`。'
        "列表按游标分页（`cursor`、`page_size`），可用 `changed_since` 增量同步。"
        "身份证号和电话默认打码；有权角色在单条记录上加 `unmask=1&reason=理由` 查看完整号码，并记入查看日志。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set shared by several fields or models (else drf-spectacular invents hashed names).
    "ENUM_NAME_OVERRIDES": {
        "GradeEnum": "households.models.Grade",
        "ComponentGradeEnum": "inspections.models.ComponentGrade",
        "AppraisalKindEnum": "inspections.models.Appraisal.Kind",
        "CaseStatusEnum": "rectification.models.CaseStatus",
        "ComplaintStatusEnum": "rectification.models.ComplaintStatus",
    },
}
