"""record() outside any transaction (every read's event) inserts its event in a transaction of its own in two
round trips: BEGIN with the chain's lock and last hash, then the insert with COMMIT (audit.services
_append_alone). The chain must hold as it did with four, an error on the way must leave no event, no lock
and no open transaction, and record() inside atomic() must not take this path."""

import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from psycopg.pq import TransactionStatus

import audit.services as audit_services
from audit.models import Action, AuditEvent
from audit.services import CHAIN_LOCK, record

pytestmark = pytest.mark.django_db(transaction=True)


def chain_lock_holders():
    """Backends holding the chain's advisory lock, seen from this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted",
            [CHAIN_LOCK],
        )
        return cursor.fetchone()[0]


def assert_idle_and_usable():
    """No transaction left open on the connection, Django's view of it unchanged, the lock released."""
    assert connection.get_autocommit() and not connection.in_atomic_block
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    assert chain_lock_holders() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_it_takes_two_round_trips_and_links_to_the_last_event(physio):
    first = record(Action.VIEW, user=physio, detail="first")
    with CaptureQueriesContext(connection) as queries:
        second = record(Action.VIEW, user=physio, detail="second")
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2
    assert statements[0].startswith("BEGIN; SELECT pg_advisory_xact_lock(")
    assert statements[1].startswith('INSERT INTO "audit_auditevent"') and statements[1].endswith("COMMIT")
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.previous_hash == first.hash == AuditEvent.objects.get(pk=first.pk).hash
    assert stored.hash == second.hash and stored.detail == "second" and stored.actor_id == physio.pk
    assert not second._state.adding
    assert_idle_and_usable()
    call_command("verify_audit")


def test_an_error_during_the_insert_leaves_no_event_and_no_open_transaction(physio, monkeypatch):
    before = record(Action.VIEW, user=physio, detail="before")
    # PostgreSQL refuses the row (a hash already in the chain: unique), inside the transaction.
    monkeypatch.setattr(AuditEvent, "compute_hash", lambda self, previous: before.hash)
    with pytest.raises(IntegrityError):
        record(Action.VIEW, user=physio, detail="refused")
    monkeypatch.undo()
    assert list(AuditEvent.objects.values_list("detail", flat=True)) == ["before"]
    assert_idle_and_usable()
    record(Action.VIEW, user=physio, detail="after")
    assert list(AuditEvent.objects.order_by("id").values_list("detail", flat=True)) == ["before", "after"]
    call_command("verify_audit")


def test_an_error_between_the_round_trips_rolls_back_and_releases_the_lock(physio, monkeypatch):
    def no_key():
        raise RuntimeError("no signing key")

    monkeypatch.setattr(audit_services.keys, "current_key_id", no_key)
    with pytest.raises(RuntimeError):
        record(Action.VIEW, user=physio, detail="refused")
    monkeypatch.undo()
    assert not AuditEvent.objects.exists()
    assert_idle_and_usable()


def test_a_connection_that_cannot_roll_back_is_closed_not_reused(physio, monkeypatch):
    """The connection is lost between the round trips (its server process ended, as a restart would):
    the insert fails, so does the rollback, and the connection is closed rather than kept."""
    key_id = audit_services.keys.current_key_id
    record(Action.VIEW, user=physio, detail="before")
    ours = connection.connection.info.backend_pid

    def end_our_server_process():
        with connections.create_connection("default").cursor() as other:
            other.execute("SELECT pg_terminate_backend(%s)", [ours])
        return key_id()

    monkeypatch.setattr(audit_services.keys, "current_key_id", end_our_server_process)
    with pytest.raises(DatabaseError):
        record(Action.VIEW, user=physio, detail="lost")
    assert connection.connection is None  # closed: the next query opens a fresh one
    monkeypatch.undo()
    assert list(AuditEvent.objects.values_list("detail", flat=True)) == ["before"]
    record(Action.VIEW, user=physio, detail="after")
    assert_idle_and_usable()
    call_command("verify_audit")


def test_inside_atomic_it_joins_the_transaction_as_before(physio):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        record(Action.VIEW, user=physio, detail="inside")
        assert connection.in_atomic_block
    statements = [query["sql"] for query in queries.captured_queries]
    assert not any(sql.startswith("BEGIN;") or sql.endswith("; COMMIT") for sql in statements)
    assert any(sql.startswith("SELECT pg_advisory_xact_lock(") for sql in statements)
    assert AuditEvent.objects.get().detail == "inside"
    assert_idle_and_usable()


def test_writers_on_two_connections_chain_every_event(physio):
    per_writer = 25
    errors = []

    def write(name):
        try:
            for index in range(per_writer):
                record(Action.VIEW, user=physio, detail=f"{name} {index}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(name,)) for name in ("one", "two")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert errors == [] and not any(writer.is_alive() for writer in writers)
    assert AuditEvent.objects.count() == 2 * per_writer
    links = list(AuditEvent.objects.order_by("id").values_list("previous_hash", "hash"))
    assert all(previous == links[index - 1][1] for index, (previous, _hash) in enumerate(links) if index)
    call_command("verify_audit")
