from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from clinic.database_roles import app_role, owner_credentials


def app_url():
    """DATABASE_URL (the app role) pointed at this worker's test database. Skips, saying why, when the
    suite runs with one role for both: then there is no app role to show anything about."""
    owner = owner_credentials()
    if owner is None or owner["USER"] == app_role():
        pytest.skip(
            "MIGRATION_DATABASE_URL is not set, so the app and the owner are one role; `make test` sets both "
            "(scripts/localdb.py), a deployment's suite needs both too"
        )
    return urlparse(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]).geturl()


@pytest.fixture
def app_database_url(transactional_db):
    """The app role's URL for the test database (rows the test commits as the owner are visible to it)."""
    return app_url()


@pytest.fixture
def as_app(app_database_url):
    """A psycopg connection to the test database as the app role, in autocommit: each statement stands
    alone, as a request's would after a refused one."""
    with psycopg.connect(app_database_url, autocommit=True) as app:
        yield app
