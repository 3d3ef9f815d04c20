"""IMS Clinic settings: one module, read from the environment (see README "Configuration").

Development defaults are safe; what production must set stops start-up with a message naming it.
"""

import os
import re
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (a long random string); "
            "only DEBUG=1 development runs may start without one."
        )
    SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    # The project's own room: migrate as the owner role, the deploy checks, the health probes.
    "clinic",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "csp",
    "audit",
    "accounts",
    # Outgoing e-mail and the task runner's clock (docs/architecture.md "Background tasks").
    "outbox",
    "django_tasks",
    "django_tasks_db",
    "patients",
    "consent",
    # Lower apps first: seed_demo runs each app's demo.py in this order (docs/architecture.md).
    "appointments",
    "treatments",
    "reports",
    "interop",
]

MIDDLEWARE = [
    # Outermost, so that a database that cannot be reached anywhere in the request answers 503.
    "clinic.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL character in a path, query, form, cookie or header answers 400 before it can reach PostgreSQL.
    "clinic.middleware.refuse_nul_bytes",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the second factor of this session (accounts/second_factor.py).
    "django_otp.middleware.OTPMiddleware",
    # Idle and absolute session limits, and no-store on every signed-in page (accounts/sessions.py).
    "accounts.sessions.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The consent statuses a page shows are read once per request (consent/middleware.py).
    "consent.middleware.consent_status_once_per_request",
    # Deny by default: every view must declare who may use it, and clinical roles pass the second
    # factor first (accounts/access.py).
    "accounts.access.AccessMiddleware",
    # CHART_ACCESS=care_team: a physiotherapist outside the care team breaks the glass (patients/privacy.py).
    "patients.privacy.ChartPrivacyMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

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
                "accounts.context_processors.navigation",
                "accounts.context_processors.roles",
            ],
        },
    },
]

# PostgreSQL only. `make run` / `make test` provide DATABASE_URL for a project-local server when unset.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Point it at a PostgreSQL database "
        "(postgresql://user:password@host:5432/name), or use `make run` / `make test`, "
        "which start a project-local PostgreSQL under var/ when it is unset."
    )
_database = dj_database_url.parse(DATABASE_URL)
if _database["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database; IMS Clinic supports no other.")
# Persistent connections with health checks rather than psycopg's in-process pool: they behave the
# same under gunicorn's sync workers and runserver's threads, and leave pooling across servers to
# PgBouncer when a chain of clinics grows (docs/architecture.md).
_database["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
_database["CONN_HEALTH_CHECKS"] = True
_database.setdefault("OPTIONS", {})
_database["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}

# PgBouncer in transaction mode between the app and PostgreSQL (docs/architecture.md, "Growing past one
# machine"): each transaction may run on another server connection, so nothing may outlive a transaction
# on the server. Django's .iterator() outside a transaction opens a WITH HOLD cursor that would (Django
# then fetches in chunks from a client-side cursor instead), and psycopg must not prepare statements
# (PgBouncer 1.18, Debian 12's, cannot route them). Session settings Django makes on connecting (the time
# zone) are among those PgBouncer itself restores on every server connection it hands out.
DB_TRANSACTION_POOLING = env_flag("DB_TRANSACTION_POOLING", False)


def pooled(database):
    if DB_TRANSACTION_POOLING:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        database["OPTIONS"]["prepare_threshold"] = None
    return database


DATABASES = {"default": pooled(_database)}

# A streaming replica for the reports' dashboards and exports (clinic/replica.py): their reads go there
# while it is at most DATABASE_REPLICA_MAX_LAG seconds behind the primary, to the primary otherwise.
# Writes, and every other read, always go to the primary (DATABASE_URL).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_MAX_LAG = float(os.environ.get("DATABASE_REPLICA_MAX_LAG", "60"))
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must name a PostgreSQL database (a replica).")
    _replica["CONN_MAX_AGE"] = _database["CONN_MAX_AGE"]
    _replica["CONN_HEALTH_CHECKS"] = True
    _replica.setdefault("OPTIONS", {})
    # Tests run against the primary's test database; the replica follows it by streaming, not by Django.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = pooled(_replica)
DATABASE_ROUTERS = ["clinic.replica.ReplicaRouter"]

# Two roles on the same database (clinic/database_roles.py): DATABASE_URL is the app role, which only
# reads and writes rows; MIGRATION_DATABASE_URL is the role that owns the schema, used by `migrate` and
# the few commands that change the schema. Unset: one role for both (development; check --deploy warns).
MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL", "")
if MIGRATION_DATABASE_URL:
    _owner = dj_database_url.parse(MIGRATION_DATABASE_URL)
    if _owner["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("MIGRATION_DATABASE_URL must name a PostgreSQL database.")
    if _owner["NAME"] != _database["NAME"]:
        raise ImproperlyConfigured(
            "MIGRATION_DATABASE_URL must name the same database as DATABASE_URL "
            f"({_database['NAME']!r}), as the role that owns its schema."
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# After this many failed sign-ins for one e-mail address within LOGIN_LOCKOUT_MINUTES, that address is
# refused until the window has passed (counted from the audit trail: accounts/lockout.py).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions live in the database so that any app server can answer any request; the table keeps the
# user of each session, so that a user's sessions can be listed and ended (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
# The absolute limit: a login lasts at most this long, however active (counted from the login).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# The idle limit: a session unused for this many minutes ends.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))

# The second factor (docs/security.md). Physiotherapists, managers and administrators always need one;
# the front desk only when SECOND_FACTOR_FRONT_DESK is on (or when they enrolled one themselves).
SECOND_FACTOR_FRONT_DESK = env_flag("SECOND_FACTOR_FRONT_DESK", False)
OTP_TOTP_ISSUER = os.environ.get("CLINIC_NAME", "IMS Clinic")
# Never show an authenticator's key or QR code again once made (accounts/admin.py keeps devices out of
# the admin altogether).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys belong to the host staff reach the app at (accounts.second_factor.PasskeyHelper: the request's
# host, already vouched for by ALLOWED_HOSTS); WEBAUTHN_RP_ID pins another (a parent domain).
OTP_WEBAUTHN_HELPER_CLASS = "accounts.second_factor.PasskeyHelper"
OTP_WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
OTP_WEBAUTHN_RP_ID_CALLABLE = "" if OTP_WEBAUTHN_RP_ID else "accounts.second_factor.passkey_relying_party"
OTP_WEBAUTHN_RP_NAME = os.environ.get("CLINIC_NAME", "IMS Clinic")
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if host not in {"*"}] or [
    "https://localhost"
]
# Wrong codes are limited by the sign-in lockout (LOGIN_FAILURE_LIMIT per LOGIN_LOCKOUT_MINUTES, shared with
# wrong passwords), not by django-otp's per-device back-off, which would refuse a right code typed within
# seconds of a wrong one with the same "does not match" message.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Passkeys are a second factor here, never a replacement for the password.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# Who among clinicians may open a chart: "all", or "care_team" (the patient is on their schedule or they
# treated them; anyone else breaks the glass with a reason, audited: patients/privacy.py).
CHART_ACCESS = os.environ.get("CHART_ACCESS", "all")
if CHART_ACCESS not in {"all", "care_team"}:
    raise ImproperlyConfigured('CHART_ACCESS must be "all" or "care_team".')
# How long one break-the-glass reason opens that patient's chart to that clinician.
BREAK_GLASS_HOURS = int(os.environ.get("BREAK_GLASS_HOURS", "8"))

LANGUAGE_CODE = "en-ca"
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/Vancouver")
# Time zone rules come from the pinned tzdata package, never the machine's zoneinfo, which can be years
# old (Debian 12 ships 2025b): British Columbia stays on UTC-7 from November 2026 (tzdata 2026), and
# PostgreSQL's own copy of the rules, which date lookups use, already knows it. Python must agree.
zoneinfo.reset_tzpath([])
USE_I18N = True
USE_TZ = True
# The database judges clinic days too (a consent version's effective date, a report's day): it reads the
# zone from the one-row table clinic_time_zone, which `manage.py migrate` keeps equal to this setting
# (clinic/time_zone.py), never from a per-connection setting that PgBouncer or psql would not carry.

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_flag("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = os.environ.get("PHONE_REGION", "CA")

CLINIC_NAME = os.environ.get("CLINIC_NAME", "IMS Clinic")
# The clinic as patients reach it: on the aftercare handout, in e-mails to patients, on receipts
# (appointments/receipts.py, beside the visit's location and address).
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "")
# How long a link e-mailed to a patient (the aftercare handout) opens, in days (clinic/patient_links.py).
PATIENT_LINK_DAYS = int(os.environ.get("PATIENT_LINK_DAYS", "14"))
# A patient may cancel or move an appointment through the link in their e-mail up to this many hours before
# it starts; later, the page asks them to call (appointments/services/online_links.py).
ONLINE_CHANGE_CUTOFF_HOURS = int(os.environ.get("ONLINE_CHANGE_CUTOFF_HOURS", "24"))
# A cancelled appointment's time is offered by e-mail to this many waitlisted people at once, oldest first;
# the first to accept gets it (appointments/services/waitlist.py).
WAITLIST_OFFERS_AT_ONCE = int(os.environ.get("WAITLIST_OFFERS_AT_ONCE", "3"))
# A pre-needling screening older than this many months is shown as due (patients/services.py).
SCREENING_VALID_MONTHS = int(os.environ.get("SCREENING_VALID_MONTHS", "12"))
# Check-in (appointments/services/status_changes.py) is open on the appointment's own day only (clinic
# time): from this many minutes before its start, or, empty, from the day's first minute; never a day ahead.
_check_in_early = os.environ.get("CHECK_IN_EARLY_MINUTES", "").strip()
if _check_in_early and not _check_in_early.isdigit():
    raise ImproperlyConfigured("CHECK_IN_EARLY_MINUTES must be a number of minutes (0 or more), or empty.")
CHECK_IN_EARLY_MINUTES = int(_check_in_early) if _check_in_early else None
# The FHIR export (docs/fhir.md): the URL that names this clinic's own identifiers (chart numbers, staff),
# which are unique only within it. Set it to a URL the clinic controls; keep it once records have left.
FHIR_IDENTIFIER_BASE = os.environ.get("FHIR_IDENTIFIER_BASE") or (
    "https://ims-clinic.example/fhir/clinic/"
    + (re.sub(r"[^a-z0-9]+", "-", CLINIC_NAME.lower()).strip("-") or "clinic")
)
# Online booking (/book/, appointments/services/online.py): the soonest a patient may book (hours from
# now), how far ahead (days), and the rate limits, counted in PostgreSQL over ONLINE_BOOKING_WINDOW_MINUTES:
# bookings sent from one client address, and for one e-mail address.
ONLINE_BOOKING_MIN_NOTICE_HOURS = int(os.environ.get("ONLINE_BOOKING_MIN_NOTICE_HOURS", "2"))
ONLINE_BOOKING_MAX_DAYS_AHEAD = int(os.environ.get("ONLINE_BOOKING_MAX_DAYS_AHEAD", "60"))
ONLINE_BOOKING_WINDOW_MINUTES = int(os.environ.get("ONLINE_BOOKING_WINDOW_MINUTES", "60"))
ONLINE_BOOKING_ADDRESS_LIMIT = int(os.environ.get("ONLINE_BOOKING_ADDRESS_LIMIT", "10"))
ONLINE_BOOKING_EMAIL_LIMIT = int(os.environ.get("ONLINE_BOOKING_EMAIL_LIMIT", "3"))
# The import of Jane and Cliniko exports (docs/import.md): the largest file it reads, in megabytes.
IMPORT_MAX_MEGABYTES = int(os.environ.get("IMPORT_MAX_MEGABYTES", "64"))


def email_settings(url):
    """EMAIL_URL: console:// (default), locmem://, file:///folder (one file per message, for development
    and the worker's tests), or smtp[s]://user:password@host:port/?tls=1."""
    parsed = urlparse(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parsed.scheme not in backends:
        raise ImproperlyConfigured(f"EMAIL_URL scheme {parsed.scheme!r} is not one of {sorted(backends)}.")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return {
        "EMAIL_BACKEND": backends[parsed.scheme],
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "").lower() in {"1", "true", "yes"},
        "EMAIL_FILE_PATH": unquote(parsed.path) if parsed.scheme == "file" else None,
    }


globals().update(email_settings(os.environ.get("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "IMS Clinic <no-reply@localhost>")

# Background tasks (docs/architecture.md "Background tasks"): e-mails and slow jobs are enqueued in
# PostgreSQL (django-tasks-db) and run by `manage.py run_worker`, which `make run` starts beside the web
# server. TASKS_BACKEND=immediate runs each task at once in the process that enqueues it (the test suite's
# default; the worker's own tests use the database backend).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
_task_backends = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _task_backends:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {sorted(_task_backends)}, not {TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _task_backends[TASKS_BACKEND]}}
# A refused send (the mail server down, a timeout) is tried again after EMAIL_RETRY_DELAY seconds, then
# twice that, four times... up to EMAIL_MAX_ATTEMPTS attempts in all; then it is failed (outbox/services.py).
EMAIL_MAX_ATTEMPTS = int(os.environ.get("EMAIL_MAX_ATTEMPTS", "6"))
EMAIL_RETRY_DELAY = float(os.environ.get("EMAIL_RETRY_DELAY", "60"))
# Jobs the worker's clock enqueues once a day, at or after a time of day (clinic time): outbox/schedule.py.
REMINDERS_AT = os.environ.get("REMINDERS_AT", "17:00")
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", REMINDERS_AT):
    raise ImproperlyConfigured(
        f"REMINDERS_AT must be a time of day as HH:MM (24-hour), not {REMINDERS_AT!r}."
    )
# The follow-up questionnaire the day after needling (treatments/followup.py) goes after sessions with neck or
# mid-back points; with FOLLOW_UP_ALL_SESSIONS=1, after every signed session. Sent daily at FOLLOW_UPS_AT.
FOLLOW_UP_ALL_SESSIONS = os.environ.get("FOLLOW_UP_ALL_SESSIONS", "0") == "1"
FOLLOW_UPS_AT = os.environ.get("FOLLOW_UPS_AT", "09:00")
# The address the links in e-mails sent by the worker start with (no request to take it from).
CLINIC_URL = os.environ.get("CLINIC_URL", "http://localhost:8000").rstrip("/")
# Background exports (outbox/exports.py): a file prepared by the worker is kept EXPORT_KEEP_DAYS days after
# it is ready, then deleted by the clock's daily job at EXPORTS_EXPIRE_AT. The clinic-wide FHIR export goes
# to the worker when the clinic holds more than FHIR_BULK_BACKGROUND_OVER records (patients, appointments,
# sessions and needle points together); below that it streams during the request.
EXPORT_KEEP_DAYS = int(os.environ.get("EXPORT_KEEP_DAYS", "7"))
if EXPORT_KEEP_DAYS < 1:
    raise ImproperlyConfigured(f"EXPORT_KEEP_DAYS must be 1 or more, not {EXPORT_KEEP_DAYS}.")
EXPORTS_EXPIRE_AT = os.environ.get("EXPORTS_EXPIRE_AT", "03:00")
FHIR_BULK_BACKGROUND_OVER = int(os.environ.get("FHIR_BULK_BACKGROUND_OVER", "20000"))
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", EXPORTS_EXPIRE_AT):
    raise ImproperlyConfigured(
        f"EXPORTS_EXPIRE_AT must be a time of day as HH:MM (24-hour), not {EXPORTS_EXPIRE_AT!r}."
    )
SCHEDULED_TASKS = {
    "send_reminders": {"task": "appointments.tasks.send_reminders", "at": REMINDERS_AT},
    "send_follow_ups": {"task": "treatments.tasks.send_follow_ups", "at": FOLLOW_UPS_AT},
    "expire_exports": {"task": "outbox.tasks.expire_exports", "at": EXPORTS_EXPIRE_AT},
    # The online booking's rate-limit counts, once they are older than any window counts them.
    "prune_online_attempts": {"task": "appointments.tasks.prune_online_attempts", "at": EXPORTS_EXPIRE_AT},
}

# How many proxies of ours sit in front of the app and append to X-Forwarded-For (README "Deploying"):
# the audit trail and the login lockout believe that header only that far (audit.services.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


# The audit trail's anchoring (docs/architecture.md "Audit anchoring"). Each audit row's hash is an
# HMAC-SHA256 under a key the database never holds, so somebody with access to the table cannot rewrite
# a row and recompute the chain after it. A row records the id of the key that signed it: to rotate,
# give the new key a new AUDIT_HMAC_KEY_ID and move the old one to AUDIT_HMAC_RETIRED_KEYS ("id:key,..."),
# where it only verifies older rows and checkpoints. Id 0 is reserved for the rows hashed with plain
# SHA-256 before keys existed. Not derived from SECRET_KEY: that key is rotated for other reasons (a
# leaked session key, SECRET_KEY_FALLBACKS), and rotating it must not orphan sixteen years of audit trail.
AUDIT_HMAC_MIN_LENGTH = 32
DEVELOPMENT_AUDIT_HMAC_KEY = "development-only-audit-key-never-use-in-production"  # noqa: S105


def audit_hmac_keys():
    """({key id: key bytes}, current key id) from AUDIT_HMAC_KEY, AUDIT_HMAC_KEY_ID and
    AUDIT_HMAC_RETIRED_KEYS; stops start-up with a message naming the variable when one is wrong."""
    current = os.environ.get("AUDIT_HMAC_KEY", "")
    if not current:
        if not DEBUG:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_KEY is not set. Set it to a long random string kept outside the database "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'); only DEBUG=1 development "
                'runs may start without one. See README "Deploying".'
            )
        current = DEVELOPMENT_AUDIT_HMAC_KEY
    elif not DEBUG and len(current) < AUDIT_HMAC_MIN_LENGTH:
        raise ImproperlyConfigured(f"AUDIT_HMAC_KEY must be at least {AUDIT_HMAC_MIN_LENGTH} characters.")
    try:
        current_id = int(os.environ.get("AUDIT_HMAC_KEY_ID", "1"))
    except ValueError:
        current_id = 0
    if not 1 <= current_id <= 32767:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY_ID must be a whole number from 1 to 32767 (0 is legacy).")
    keys = {current_id: current.encode()}
    for entry in env_list("AUDIT_HMAC_RETIRED_KEYS"):
        key_id, _, key = entry.partition(":")
        if not key_id.strip().isdigit() or not key or not 1 <= int(key_id) <= 32767 or int(key_id) in keys:
            raise ImproperlyConfigured(
                "AUDIT_HMAC_RETIRED_KEYS must be comma-separated id:key pairs, each id from 1 to 32767 and "
                "different from AUDIT_HMAC_KEY_ID and from each other."
            )
        keys[int(key_id)] = key.encode()
    return keys, current_id


AUDIT_HMAC_KEYS, AUDIT_HMAC_KEY_ID = audit_hmac_keys()
# Where manage.py audit_checkpoint appends the signed heads of the chain that verify_audit checks. In
# production, storage the database's host and credentials cannot rewrite (README "Deploying").
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("AUDIT_CHECKPOINT_DIR") or BASE_DIR / "var" / "audit-checkpoints")

# Behind a TLS-terminating proxy in production (README "Deploying").
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", True)
    # Load balancers probe the app servers directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading is the clinic's choice (docs/security.md): once on browsers' list a domain cannot
        # easily leave it, so check --deploy does not nag when it is deliberately off.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy: scripts only from our own static files, never inline (docs/security.md).
# Inline style attributes stay allowed (Bootstrap and the server-drawn SVG charts use them); <style>
# elements and stylesheets from elsewhere do not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
