"""/healthz (the process answers) and /readyz (database reachable, migrations applied) for load
balancers: open to anyone, one word each, nothing else revealed, nothing audited."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from clinic import views


def test_healthz_answers_without_the_database(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers_and_every_migration_is_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ready\n"
    assert AuditEvent.objects.count() == 0, "a probe is not a view of anything clinical"


@pytest.mark.django_db
def test_readyz_is_not_ready_while_a_migration_is_unapplied(client, monkeypatch):
    monkeypatch.setattr(views, "migrations_seen_applied", False)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'sessions'")  # its one, so its latest
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready\n", "no reason given: a probe reveals nothing"
    assert response["Retry-After"]


@pytest.mark.django_db
def test_once_seen_applied_readyz_only_asks_whether_the_database_answers(client, django_assert_num_queries):
    client.get("/readyz")
    with django_assert_num_queries(1):
        assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_probes_take_only_get_and_head(client, path, db):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
