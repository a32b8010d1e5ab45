"""RepairHub settings: one file, the environment is the only difference between installs.

Embedded mode (no variables set): SQLite in ./var, SqliteHuey beside it, a field key generated
once into ./var. Production: set DEBUG=0 and the secrets; missing ones stop start-up with a
clear message instead of falling back to a default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("REPAIRHUB_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _embedded_secret(name: str, filename: str, nbytes: int = 32) -> str:
    """Return the variable, or in DEBUG a secret generated once and kept in ./var."""
    value = os.environ.get(name)
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (generate one with: "
            f"python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", True)
TESTING = env_bool("REPAIRHUB_TESTING", False)
SECRET_KEY = _embedded_secret("SECRET_KEY", "secret.key", 48)
FIELD_ENCRYPTION_KEY = _embedded_secret("FIELD_ENCRYPTION_KEY", "field.key")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# The public address in QR codes and tracking links; by default where `repairhub serve` listens.
SITE_URL = os.environ.get(
    "SITE_URL",
    f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}",
).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "huey.contrib.djhuey",
    "axes",
    "repairhub.accounts",
    "repairhub.places",
    "repairhub.workorders",
    "repairhub.notify",
    "repairhub.dispatch",
    "repairhub.sla",
    "repairhub.supervision",
    "repairhub.feedback",
    "repairhub.analytics",
    "repairhub.imports",
    "repairhub.intake",
    "repairhub.api",
    "repairhub.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "repairhub.urls"
WSGI_APPLICATION = "repairhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "repairhub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "repairhub.accounts.context_processors.roles",
            ],
        },
    }
]

# --- database ---------------------------------------------------------------------------
# SQLite: WAL, IMMEDIATE transactions (writers queue instead of failing mid-transaction) and a
# busy timeout. PostgreSQL when DATABASE_URL says so. Connections are kept open: opening one
# per request costs more than half the throughput (docs/benchmarks.md).
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'repairhub.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["ENGINE"] = "repairhub.lib.sqlite"  # Django's, with writers queued on a file lock
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # Tests need a file (not :memory:) so threads and processes share one database.
    _db["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    # One test database per process, so parallel runs on one server do not collide.
    _db["TEST"] = {"NAME": f"test_repairhub_{os.getpid()}"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work (Huey) ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "repairhub"),
        "url": REDIS_URL,
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "repairhub",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        # No fsync per queued task: the queue only carries work whose record is in the main
        # database (outbox rows, report runs), and the sweeps pick up whatever a power cut
        # dropped; a sync here cost each order or dispatch a disk flush.
        "fsync": False,
        "immediate": TESTING,
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

CACHES = (
    {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Several installations (or test runs) may share one Redis.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
        }
    }
    if REDIS_URL
    else {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "repairhub_cache",
        }
    }
)

# --- auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing speed is not what the tests are about.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "errors/lockout.html"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- words and time -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "repairhub" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "repairhub" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# One upload: photos are re-encoded, videos kept as sent, both bounded.
UPLOAD_MAX_IMAGE_BYTES = int(os.environ.get("UPLOAD_MAX_IMAGE_BYTES", str(10 * 1024 * 1024)))
UPLOAD_MAX_VIDEO_BYTES = int(os.environ.get("UPLOAD_MAX_VIDEO_BYTES", str(30 * 1024 * 1024)))
UPLOAD_MAX_FILES = 6
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- product rules ------------------------------------------------------------------------
ORDER_NUMBER_PREFIX = os.environ.get("ORDER_NUMBER_PREFIX", "BX")
# Anonymous intake (web/QR form and API) per client address.
ANON_INTAKE_RATE = os.environ.get("ANON_INTAKE_RATE", "20/h")
# How long each server process may keep API tokens, categories and places it has looked up
# (repairhub/lib/localcache.py); a change made in another process takes effect within this.
LOCAL_CACHE_SECONDS = float(os.environ.get("LOCAL_CACHE_SECONDS", "15"))
# Dispatch plans (docs/dispatch.md): travel speed and the default time limit of a plan.
DISPATCH_SPEED_KMH = float(os.environ.get("DISPATCH_SPEED_KMH", "25"))
DISPATCH_PLAN_SECONDS = float(os.environ.get("DISPATCH_PLAN_SECONDS", "5"))


# --- live positions and the map (DP3, docs/dispatch-map.md) ------------------------------
def _map_center(value: str) -> tuple[float, float] | None:
    if not value.strip():
        return None
    try:
        lat, lng = (float(part) for part in value.split(","))
    except ValueError:
        raise ImproperlyConfigured(
            "MAP_CENTER must be 'latitude,longitude', e.g. 30.5,114.4"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ImproperlyConfigured("MAP_CENTER is outside -90..90 / -180..180.")
    return lat, lng


POSITION_MIN_SECONDS = int(os.environ.get("POSITION_MIN_SECONDS", "20"))
POSITION_KEEP_DAYS = int(os.environ.get("POSITION_KEEP_DAYS", "7"))
POSITION_STALE_MINUTES = int(os.environ.get("POSITION_STALE_MINUTES", "10"))
POSITION_TRACK_MINUTES = int(os.environ.get("POSITION_TRACK_MINUTES", "120"))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # empty: no tiles (intranets)
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")
MAP_CENTER = _map_center(os.environ.get("MAP_CENTER", ""))  # None: fit the data
MAP_ZOOM = int(os.environ.get("MAP_ZOOM", "16"))


# --- notifications (repairhub/notify/channels, docs/notify-channels.md) ---------------------
def _pairs(value: str) -> dict[str, str]:
    """'a=1;b=2' -> {'a': '1', 'b': '2'}: template codes, robot and webhook URLs in one variable."""
    items = (item.partition("=") for item in value.split(";") if item.strip())
    return {name.strip(): rest.strip() for name, _, rest in items}


NOTIFY_CONNECT_TIMEOUT = float(os.environ.get("NOTIFY_CONNECT_TIMEOUT", "5"))
NOTIFY_READ_TIMEOUT = float(os.environ.get("NOTIFY_READ_TIMEOUT", "5"))
SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "console")
_sms: dict = {
    "sign_name": os.environ.get("SMS_SIGN_NAME", ""),
    "templates": _pairs(os.environ.get("SMS_TEMPLATES", "")),
}
if SMS_PROVIDER == "aliyun":
    _sms |= {
        "backend": "aliyun_sms",
        "access_key_id": os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID", ""),
        "access_key_secret": os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET", ""),
    }
elif SMS_PROVIDER == "tencent":
    _sms |= {
        "backend": "tencent_sms",
        "secret_id": os.environ.get("TENCENT_SMS_SECRET_ID", ""),
        "secret_key": os.environ.get("TENCENT_SMS_SECRET_KEY", ""),
        "sdk_app_id": os.environ.get("TENCENT_SMS_SDK_APP_ID", ""),
    }
elif SMS_PROVIDER == "console":
    _sms = {"backend": "console_sms"}
else:
    raise ImproperlyConfigured("SMS_PROVIDER must be console, aliyun or tencent.")
NOTIFY_CHANNELS: dict[str, dict] = {"sms": _sms, "email": {"backend": "email"}}
if os.environ.get("WECOM_ROBOTS"):
    NOTIFY_CHANNELS["wecom"] = {
        "backend": "wecom_robot",
        "robots": _pairs(os.environ["WECOM_ROBOTS"]),
    }
if os.environ.get("DINGTALK_ROBOTS"):
    _secrets = _pairs(os.environ.get("DINGTALK_ROBOT_SECRETS", ""))
    NOTIFY_CHANNELS["dingtalk"] = {
        "backend": "dingtalk_robot",
        "robots": {
            name: {"url": url, "secret": _secrets.get(name, "")}
            for name, url in _pairs(os.environ["DINGTALK_ROBOTS"]).items()
        },
    }
if os.environ.get("WEBHOOK_ENDPOINTS"):
    _secrets = _pairs(os.environ.get("WEBHOOK_SECRETS", ""))
    NOTIFY_CHANNELS["partners"] = {
        "backend": "webhook",
        "endpoints": {
            name: {"url": url, "secret": _secrets.get(name, "")}
            for name, url in _pairs(os.environ["WEBHOOK_ENDPOINTS"]).items()
        },
    }


# The outbox worker (repairhub/notify/services.py, docs/notify.md).
def _quiet_hours(value: str):
    """'22:00-07:00' -> (time(22), time(7)); empty -> None."""
    from datetime import time

    if not value.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ImproperlyConfigured(
            "NOTIFY_QUIET_HOURS must be 'HH:MM-HH:MM', e.g. 22:00-07:00"
        ) from None
    return start, end


# Failed attempts wait base × 2^(n-1) seconds, at most the cap; after the last one the message
# is dead (the admin's dead-letter list). Defaults: 30 s, 1 min, 2 min, 4 min, 8 min, dead.
NOTIFY_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFY_RETRY_BASE_SECONDS", "30"))
NOTIFY_RETRY_CAP_SECONDS = float(os.environ.get("NOTIFY_RETRY_CAP_SECONDS", "3600"))
NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "6"))
# How long a worker holds a message it is sending; longer than any one attempt may take
# (connect + read timeouts, e-mail timeout). A worker that dies loses its messages to the sweep
# after this.
NOTIFY_LEASE_SECONDS = float(os.environ.get("NOTIFY_LEASE_SECONDS", "60"))
# A robot over its 20 messages a minute is tried again this much later (no attempt used up).
NOTIFY_RATE_LIMIT_RETRY_SECONDS = float(os.environ.get("NOTIFY_RATE_LIMIT_RETRY_SECONDS", "10"))
# The sweep (every minute): at most this many messages, for at most this many seconds.
NOTIFY_SWEEP_BATCH = int(os.environ.get("NOTIFY_SWEEP_BATCH", "500"))
NOTIFY_SWEEP_SECONDS = float(os.environ.get("NOTIFY_SWEEP_SECONDS", "50"))
# SMS length, signature included. Aliyun and Tencent both take at most 500 characters and bill
# 70 characters as one message, longer ones per 67 (Aliyun: https://help.aliyun.com/document_detail/44335.html
# "短信内容长度计算规则"; Tencent: https://cloud.tencent.com/document/product/382/34671). The
# default keeps a receipt within two billed parts; long descriptions are shortened, never links.
NOTIFY_SMS_MAX_CHARS = int(os.environ.get("NOTIFY_SMS_MAX_CHARS", "134"))
if not 20 <= NOTIFY_SMS_MAX_CHARS <= 500:
    raise ImproperlyConfigured(
        "NOTIFY_SMS_MAX_CHARS must be between 20 and 500 (providers' maximum)."
    )
# Quiet hours of people who have not set their own, and of recipients without an account.
NOTIFY_QUIET_HOURS = _quiet_hours(os.environ.get("NOTIFY_QUIET_HOURS", ""))
# Team code -> robot name in the "wecom" and "dingtalk" channels ("*": every other team).
NOTIFY_TEAM_ROBOTS = _pairs(os.environ.get("NOTIFY_TEAM_ROBOTS", ""))
# The NOTIFY_CHANNELS entry whose endpoints (named after partner usernames) get partners' events.
NOTIFY_WEBHOOK_CHANNEL = os.environ.get("NOTIFY_WEBHOOK_CHANNEL", "partners")

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "报修云 <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The consumer has its own handler; without this every line prints twice.
        "huey": {"propagate": False},
        # At INFO they log request URLs, which carry robot keys and phone numbers.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# --- supervision: reminders, urging (催单), escalation (repairhub/supervision, docs/supervision.md)
# The assignee is reminded every SUPERVISION_REMIND_HOURS while his order is open; the third
# reminder asks for the result.
SUPERVISION_REMIND_HOURS = float(os.environ.get("SUPERVISION_REMIND_HOURS", "12"))
# A reporter may urge this long after submitting and after each urge, so many times a day.
SUPERVISION_URGE_AFTER_MINUTES = int(os.environ.get("SUPERVISION_URGE_AFTER_MINUTES", "30"))
SUPERVISION_URGE_PER_DAY = int(os.environ.get("SUPERVISION_URGE_PER_DAY", "3"))
# Urges that bring in the team lead; minutes an escalation may stay unresolved before managers.
SUPERVISION_ESCALATE_URGES = int(os.environ.get("SUPERVISION_ESCALATE_URGES", "2"))
SUPERVISION_MANAGER_AFTER_MINUTES = int(os.environ.get("SUPERVISION_MANAGER_AFTER_MINUTES", "120"))

# SLA clocks (repairhub/sla, docs/sla.md): a clock turns amber when less than this share of
# its target is left; the supervision board refreshes itself this often; the breach job marks
# at most this many clocks a minute.
SLA_AT_RISK_FRACTION = float(os.environ.get("SLA_AT_RISK_FRACTION", "0.25"))
SLA_BOARD_REFRESH_SECONDS = int(os.environ.get("SLA_BOARD_REFRESH_SECONDS", "30"))
SLA_BREACH_BATCH = int(os.environ.get("SLA_BREACH_BATCH", "500"))


# --- feedback (repairhub/feedback, docs/feedback.md) ---------------------------------------
# Ratings (FQ1): the reporter may change his rating for this long; no answer for this many days
# after completion confirms the order automatically (never counted as a rating).
FEEDBACK_RATING_EDIT_HOURS = int(os.environ.get("FEEDBACK_RATING_EDIT_HOURS", "24"))
FEEDBACK_AUTO_CONFIRM_DAYS = int(os.environ.get("FEEDBACK_AUTO_CONFIRM_DAYS", "7"))
FEEDBACK_LOW_RATING = int(os.environ.get("FEEDBACK_LOW_RATING", "2"))  # this or less is low
# Follow-up visits (FQ2): due this many working days after completion; tries before giving up.
FEEDBACK_VISIT_WORKING_DAYS = int(os.environ.get("FEEDBACK_VISIT_WORKING_DAYS", "2"))
FEEDBACK_VISIT_MAX_ATTEMPTS = int(os.environ.get("FEEDBACK_VISIT_MAX_ATTEMPTS", "3"))
# Quality checks (FQ4): defaults of the admin-editable sampling rule; penalty per failed check.
FEEDBACK_QC_TARGET_PERCENT = float(os.environ.get("FEEDBACK_QC_TARGET_PERCENT", "10"))
FEEDBACK_QC_NEW_TECHNICIAN_DAYS = int(os.environ.get("FEEDBACK_QC_NEW_TECHNICIAN_DAYS", "30"))
FEEDBACK_QC_HIGH_COST_YUAN = float(os.environ.get("FEEDBACK_QC_HIGH_COST_YUAN", "500"))
FEEDBACK_QC_PENALTY_POINTS = int(os.environ.get("FEEDBACK_QC_PENALTY_POINTS", "1"))
# Warranty (FQ5): days for categories without their own figure.
FEEDBACK_WARRANTY_DAYS = int(os.environ.get("FEEDBACK_WARRANTY_DAYS", "90"))
# Complaints (FQ3): first contact within this many hours on this clock (24x7 or working_hours),
# a reminder this long before, and a complaint about the same matter within this many days is
# a repeat.
FEEDBACK_COMPLAINT_FIRST_CONTACT_HOURS = int(
    os.environ.get("FEEDBACK_COMPLAINT_FIRST_CONTACT_HOURS", "24")
)
FEEDBACK_COMPLAINT_CALENDAR = os.environ.get("FEEDBACK_COMPLAINT_CALENDAR", "24x7")
FEEDBACK_COMPLAINT_REMIND_HOURS = int(os.environ.get("FEEDBACK_COMPLAINT_REMIND_HOURS", "4"))
FEEDBACK_COMPLAINT_REPEAT_DAYS = int(os.environ.get("FEEDBACK_COMPLAINT_REPEAT_DAYS", "90"))
# Whether a person complained about sees those complaints (never who made them).
FEEDBACK_SUBJECT_SEES_COMPLAINTS = env_bool("FEEDBACK_SUBJECT_SEES_COMPLAINTS", True)

# --- analytics (repairhub/analytics, docs/analytics.md)
# Rankings and appraisal do not rank anyone whose figure rests on fewer orders than this.
ANALYTICS_MIN_ORDERS = int(os.environ.get("ANALYTICS_MIN_ORDERS", "5"))
# Reports (AN7, docs/reports.md). Scheduled reports are made from this local hour on the day
# after their period (daily: every day; weekly: Monday; monthly: the 1st; quarterly and annual
# likewise); the kinds made for the whole organisation even without subscribers; days generated
# files are kept (0: for ever); how many reports one person may have waiting at once.
ANALYTICS_REPORT_HOUR = int(os.environ.get("ANALYTICS_REPORT_HOUR", "6"))
if not 0 <= ANALYTICS_REPORT_HOUR <= 23:
    raise ImproperlyConfigured("ANALYTICS_REPORT_HOUR must be an hour from 0 to 23.")
ANALYTICS_REPORT_SCHEDULE = [
    kind.strip()
    for kind in os.environ.get(
        "ANALYTICS_REPORT_SCHEDULE", "daily,weekly,monthly,quarterly,annual"
    ).split(",")
    if kind.strip()
]
if set(ANALYTICS_REPORT_SCHEDULE) - {"daily", "weekly", "monthly", "quarterly", "annual"}:
    raise ImproperlyConfigured(
        "ANALYTICS_REPORT_SCHEDULE lists report kinds: daily, weekly, monthly, quarterly, annual."
    )
ANALYTICS_REPORT_KEEP_DAYS = int(os.environ.get("ANALYTICS_REPORT_KEEP_DAYS", "0"))
ANALYTICS_REPORT_MAX_WAITING = int(os.environ.get("ANALYTICS_REPORT_MAX_WAITING", "3"))
# Forecast (AN8, docs/forecast.md): weeks shown (at most MAX), interval level in percent, days of
# history fitted, the least history (days, orders) to forecast at all, the history that earns a
# yearly curve and its Fourier pairs, ridge penalty, simulated weeks per interval, cache time.
ANALYTICS_FORECAST_WEEKS = int(os.environ.get("ANALYTICS_FORECAST_WEEKS", "8"))
ANALYTICS_FORECAST_MAX_WEEKS = int(os.environ.get("ANALYTICS_FORECAST_MAX_WEEKS", "12"))
ANALYTICS_FORECAST_LEVEL = int(os.environ.get("ANALYTICS_FORECAST_LEVEL", "80"))
ANALYTICS_FORECAST_HISTORY_DAYS = int(os.environ.get("ANALYTICS_FORECAST_HISTORY_DAYS", "1095"))
ANALYTICS_FORECAST_MIN_DAYS = int(os.environ.get("ANALYTICS_FORECAST_MIN_DAYS", "56"))
ANALYTICS_FORECAST_MIN_ORDERS = int(os.environ.get("ANALYTICS_FORECAST_MIN_ORDERS", "50"))
ANALYTICS_FORECAST_YEARLY_DAYS = int(os.environ.get("ANALYTICS_FORECAST_YEARLY_DAYS", "365"))
ANALYTICS_FORECAST_HARMONICS = int(os.environ.get("ANALYTICS_FORECAST_HARMONICS", "8"))
ANALYTICS_FORECAST_RIDGE = float(os.environ.get("ANALYTICS_FORECAST_RIDGE", "1.0"))
ANALYTICS_FORECAST_SIMULATIONS = int(os.environ.get("ANALYTICS_FORECAST_SIMULATIONS", "2000"))
ANALYTICS_FORECAST_CACHE_SECONDS = int(os.environ.get("ANALYTICS_FORECAST_CACHE_SECONDS", "3600"))
# Hotspots: by default a place is hot when one category failed at least MIN_COUNT times within
# DAYS; failures at SPREAD or more places of a building call it widespread; LIMIT rows a table.
ANALYTICS_HOTSPOT_DAYS = int(os.environ.get("ANALYTICS_HOTSPOT_DAYS", "90"))
ANALYTICS_HOTSPOT_MIN_COUNT = int(os.environ.get("ANALYTICS_HOTSPOT_MIN_COUNT", "3"))
ANALYTICS_HOTSPOT_SPREAD = int(os.environ.get("ANALYTICS_HOTSPOT_SPREAD", "3"))
ANALYTICS_HOTSPOT_LIMIT = int(os.environ.get("ANALYTICS_HOTSPOT_LIMIT", "50"))
# Daily summaries (analytics/rollup.py): the nightly job recomputes this many recent days.
ANALYTICS_ROLLUP_RECENT_DAYS = int(os.environ.get("ANALYTICS_ROLLUP_RECENT_DAYS", "62"))
