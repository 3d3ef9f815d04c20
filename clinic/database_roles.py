"""The two database roles (DESIGN.md rule 7, docs/architecture.md).

Requests are served as the app role (DATABASE_URL): it reads and writes rows and nothing more, so it
cannot truncate a table, change the schema, or switch off the triggers that keep signed records and the
audit trail unchangeable. The schema belongs to the owner role (MIGRATION_DATABASE_URL): `migrate` and
the few other commands that change the schema or load in bulk connect as it, through as_owner(), and
`migrate` grants the app role what it needs on whatever the migrations created.

Without MIGRATION_DATABASE_URL there is one role for both (a development set-up); `check --deploy` warns.
"""

from contextlib import contextmanager

import dj_database_url
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import sql

# What a connection's settings say about who connects; the database NAME stays as it is (the test
# framework renames it).
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")

# Exactly what the app role may do. TRUNCATE, REFERENCES and TRIGGER are taken back in case an earlier
# set-up granted ALL; nothing here lets it create, alter or drop anything.
GRANTS = [
    "GRANT USAGE ON SCHEMA public TO {app}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
    "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {app}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {app}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {app}",
    # Tables, sequences and functions that later migrations create get the same, without a GRANT each.
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO {app}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {app}",
]


def owner_credentials():
    """The owner role's connection settings (CREDENTIALS) from MIGRATION_DATABASE_URL, or None."""
    if not settings.MIGRATION_DATABASE_URL:
        return None
    return _credentials(dj_database_url.parse(settings.MIGRATION_DATABASE_URL))


def app_role():
    """The role requests are served as: the user in DATABASE_URL."""
    return dj_database_url.parse(settings.DATABASE_URL)["USER"]


def _credentials(parsed):
    # dj-database-url leaves OPTIONS out when the URL has no query string; settings.py sets it to {}.
    return {key: parsed.get(key, {} if key == "OPTIONS" else "") for key in CREDENTIALS}


def _same(credentials, settings_dict):
    return all(credentials[key] == settings_dict.get(key) for key in ("USER", "HOST", "PORT", "OPTIONS"))


@contextmanager
def as_owner(alias=DEFAULT_DB_ALIAS):
    """Connect as the owner role for the duration (usable as a decorator on a command's handle()).

    Refuses to switch inside a transaction, which the switch would have to end. Does nothing without
    MIGRATION_DATABASE_URL, or when the connection is the owner's already (the test suite's is)."""
    owner = owner_credentials()
    connection = connections[alias]
    if alias != DEFAULT_DB_ALIAS or owner is None or _same(owner, connection.settings_dict):
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError("Cannot switch to the database owner role inside a transaction.")
    saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def grant_app_role(alias=DEFAULT_DB_ALIAS):
    """Grant the app role its privileges on everything in the schema, now and for objects made later.

    Run by `migrate` as the owner; does nothing when the app role is the role connected (one role for
    both). Returns the app role's name, or None when nothing was granted."""
    app = app_role()
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (current,) = cursor.fetchone()
        if not app or app == current:
            return None
        for statement in GRANTS:
            cursor.execute(
                sql.SQL(statement).format(app=sql.Identifier(app)).as_string(connection.connection)
            )
        # PostgreSQL 15 and later already keep everyone but the owner from creating objects in the public
        # schema; an older or upgraded database may not. Only the schema's owner can take that back.
        cursor.execute("SELECT pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = 'public'")
        if cursor.fetchone()[0]:
            cursor.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return app
