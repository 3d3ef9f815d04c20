"""Checks `manage.py check --deploy` adds for what only a production set-up gets wrong."""

from django.core.checks import Tags, Warning, register

from .database_roles import app_role, owner_credentials


@register(Tags.database, deploy=True)
def check_database_roles(app_configs, **kwargs):
    owner = owner_credentials()
    if owner and owner["USER"] != app_role():
        return []
    return [
        Warning(
            "The app connects to the database as the role that runs its migrations: that role owns the "
            "tables, so it can truncate them and switch off the triggers that keep signed records and the "
            "audit trail unchangeable.",
            hint="Set DATABASE_URL to a role that only reads and writes rows, and MIGRATION_DATABASE_URL to "
            "the role that owns the schema (README, Deploying).",
            id="clinic.W001",
        )
    ]
