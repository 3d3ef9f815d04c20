"""Checks `manage.py check --deploy` adds for what only a production set-up gets wrong."""

from django.core.checks import Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, connections

from .database_roles import app_role, owner_credentials

HINT = (
    "Serve requests as a role that only reads and writes rows (DATABASE_URL) and run migrations as the "
    "role that owns the schema (MIGRATION_DATABASE_URL): README, Deploying."
)


@register(Tags.database, deploy=True)
def check_database_roles(app_configs=None, databases=None, **kwargs):
    """The app's database role must not be able to switch the rules off (DESIGN.md rule 7). Without
    --database only the URLs are compared; `check --deploy --database default` asks the database."""
    owner = owner_credentials()
    if owner and owner["USER"] == app_role():
        return [
            Warning(
                "DATABASE_URL and MIGRATION_DATABASE_URL name the same role.", hint=HINT, id="clinic.W001"
            )
        ]
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            """SELECT current_user, rolsuper,
                      (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
                       AND relkind IN ('r', 'p') AND pg_has_role(relowner, 'USAGE'))
               FROM pg_roles WHERE rolname = current_user"""
        )
        role, superuser, owned = cursor.fetchone()
    if not superuser and not owned:
        return []
    what = "is a superuser" if superuser else f"owns {owned} of its tables"
    return [
        Warning(
            f"The app connects to the database as {role}, which {what}: it can truncate tables and switch "
            "off the triggers that keep signed records and the audit trail unchangeable.",
            hint=HINT,
            id="clinic.W001",
        )
    ]


@register(deploy=True)
def check_clinic_url(app_configs=None, **kwargs):
    """Links e-mailed to patients by the worker (the follow-up after needling) start with CLINIC_URL: the
    worker has no request to take the address from. Left at its default, patients get localhost links."""
    from urllib.parse import urlsplit

    from django.conf import settings

    address = urlsplit(settings.CLINIC_URL)
    if address.hostname in {None, "localhost", "127.0.0.1", "::1"} or address.scheme != "https":
        return [
            Warning(
                f"CLINIC_URL is {settings.CLINIC_URL!r}: links e-mailed to patients would not reach the "
                "clinic.",
                hint="Set CLINIC_URL to the clinic's public https address (README, Configuration).",
                id="clinic.W002",
            )
        ]
    return []
