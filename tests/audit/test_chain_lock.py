"""The chain's lock serialises the audit inserts only, not the work of the transactions around them: a
transaction that audits early and then works on does not hold up another writer (two connections)."""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import Action, AuditEvent
from audit.services import audited_transaction, record

pytestmark = pytest.mark.django_db(transaction=True)

WORK_SECONDS = 2.0


def audit_then_work(block, user, recorded):
    """In another connection: record an event, then keep the transaction busy for WORK_SECONDS."""
    try:
        with block():
            record(Action.UPDATE, user=user, detail="long transaction")
            recorded.set()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [WORK_SECONDS])  # unrelated work after auditing
    finally:
        recorded.set()
        connection.close()


def second_writer_wait(block, user):
    """Seconds another writer waits to record one event while `block` runs the long transaction."""
    recorded = threading.Event()
    worker = threading.Thread(target=audit_then_work, args=(block, user, recorded))
    worker.start()
    assert recorded.wait(10)
    started = time.perf_counter()
    record(Action.VIEW, user=user, detail="second writer")
    waited = time.perf_counter() - started
    worker.join(10)
    assert not worker.is_alive()
    return waited


def test_a_second_writer_is_not_blocked_by_a_transaction_that_audited_early(physio):
    waited = second_writer_wait(audited_transaction, physio)
    assert waited < WORK_SECONDS / 2
    # The long transaction's event went in at its end, after the second writer's, and the chain holds.
    assert list(AuditEvent.objects.order_by("id").values_list("detail", flat=True)) == [
        "second writer",
        "long transaction",
    ]
    call_command("verify_audit")


def test_record_inside_a_plain_transaction_still_holds_the_lock_until_it_commits(physio):
    """Why services use audited_transaction(): in a plain atomic block the event is inserted at once and
    the lock kept to the commit, so record() belongs at the end of such a block."""
    waited = second_writer_wait(transaction.atomic, physio)
    assert waited > WORK_SECONDS * 0.75
    assert list(AuditEvent.objects.order_by("id").values_list("detail", flat=True)) == [
        "long transaction",
        "second writer",
    ]
    call_command("verify_audit")
