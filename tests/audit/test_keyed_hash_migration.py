"""A database whose trail was written before keyed hashing (the demo clinic's, or a clinic's in use) still
verifies after migration 0005, and its chain carries on with keyed rows."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audit.models import Action, AuditEvent
from audit.services import record

BEFORE = [("audit", "0004_login_failed_index")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def old_style_rows(count):
    """Insert rows exactly as the code before migration 0005 did: plain SHA-256, no key id column."""
    previous = "0" * 64
    with connection.cursor() as cursor:
        for n in range(1, count + 1):
            at = datetime(2026, 11, 20, 9, n, tzinfo=UTC)
            content = json.dumps(
                {
                    "at": at.isoformat(),
                    "actor": None,
                    "actor_email": "",
                    "action": "view",
                    "object_type": "patients.patient",
                    "object_id": str(n),
                    "patient_id": n,
                    "ip_address": "10.0.0.1",
                    "user_agent": "Firefox",
                    "detail": "chart",
                },
                sort_keys=True,
                separators=(",", ":"),
            )
            digest = hashlib.sha256((previous + "\n" + content).encode()).hexdigest()
            cursor.execute(
                "INSERT INTO audit_auditevent (at, actor_email, action, object_type, object_id, patient_id, "
                "ip_address, user_agent, detail, previous_hash, hash) "
                "VALUES (%s, '', 'view', 'patients.patient', %s, %s, '10.0.0.1', 'Firefox', 'chart', %s, %s)",
                [at, str(n), n, previous, digest],
            )
            previous = digest


@pytest.mark.django_db(transaction=True)
def test_a_trail_written_before_keyed_hashing_still_verifies_after_the_migration(physio, capsys):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("audit")
    migrate(BEFORE)
    try:
        old_style_rows(4)
    finally:
        migrate(latest)
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {0}
    record(Action.VIEW, user=physio, detail="after the upgrade")
    call_command("verify_audit")
    assert (
        "Audit chain intact: 5 events verified (4 of them from before keyed hashing)."
        in capsys.readouterr().out
    )
    assert AuditEvent.objects.order_by("-id").first().key_id == 1
