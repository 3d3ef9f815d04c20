"""The chain's hash is keyed (HMAC-SHA256 under a key the database never holds), rows say which key
signed them so keys can be rotated, and the rows hashed with plain SHA-256 before keys existed still
verify, but only at the start of the chain."""

import hashlib
import hmac
import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import record
from tests.audit.tampering import legacy_hash, tamper

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_a_row_is_signed_with_the_current_key_and_says_which(physio, settings):
    settings.AUDIT_HMAC_KEYS = {7: b"k" * 40}
    settings.AUDIT_HMAC_KEY_ID = 7
    event = record(Action.VIEW, user=physio, object_type="patients.patient", object_id="1", patient_id=1)
    event.refresh_from_db()
    assert event.key_id == 7
    message = f"audit event\n7\n{AuditEvent.GENESIS}\n{event.canonical()}"
    assert event.hash == hmac.new(b"k" * 40, message.encode(), hashlib.sha256).hexdigest()
    assert event.hash != legacy_hash(event, AuditEvent.GENESIS)


def test_rows_signed_with_a_retired_key_still_verify_after_rotation(physio, settings, capsys):
    settings.AUDIT_HMAC_KEYS = {1: b"old" * 12}
    settings.AUDIT_HMAC_KEY_ID = 1
    record(Action.VIEW, user=physio)
    settings.AUDIT_HMAC_KEYS = {2: b"new" * 12, 1: b"old" * 12}
    settings.AUDIT_HMAC_KEY_ID = 2
    record(Action.VIEW, user=physio)
    assert list(AuditEvent.objects.order_by("id").values_list("key_id", flat=True)) == [1, 2]
    call_command("verify_audit")
    assert "Audit chain intact: 2 events verified." in capsys.readouterr().out


def test_a_row_under_a_key_this_server_lacks_is_named(physio, settings):
    settings.AUDIT_HMAC_KEYS = {1: b"old" * 12}
    settings.AUDIT_HMAC_KEY_ID = 1
    event = record(Action.VIEW, user=physio)
    settings.AUDIT_HMAC_KEYS = {2: b"new" * 12}  # the retired key was forgotten
    settings.AUDIT_HMAC_KEY_ID = 2
    with pytest.raises(CommandError, match=f"event {event.pk} .*key id 1 is not configured"):
        call_command("verify_audit")


def now():
    return timezone.now().astimezone(UTC)


def insert_legacy_rows(user, count):
    """Rows as the code before keyed hashing wrote them (key id 0 after migration 0005): plain SHA-256
    over the same content."""
    previous = AuditEvent.GENESIS
    for n in range(1, count + 1):
        row = AuditEvent(
            at=now(),
            actor=user,
            actor_email=user.email,
            action=Action.VIEW,
            object_type="patients.patient",
            object_id=str(n),
            patient_id=n,
            key_id=0,
            previous_hash=previous,
        )
        row.hash = legacy_hash(row, previous)
        row.save(force_insert=True)
        previous = row.hash


def test_rows_from_before_keyed_hashing_verify_as_plain_sha256(physio, capsys):
    insert_legacy_rows(physio, 3)
    record(Action.VIEW, user=physio)
    record(Action.VIEW, user=physio)
    call_command("verify_audit")
    assert (
        "Audit chain intact: 5 events verified (3 of them from before keyed hashing)."
        in capsys.readouterr().out
    )


def test_a_legacy_row_that_was_altered_is_still_named(physio):
    insert_legacy_rows(physio, 3)
    second = AuditEvent.objects.order_by("id")[1]
    tamper("UPDATE audit_auditevent SET patient_id = 99 WHERE id = %s", [second.pk])
    with pytest.raises(CommandError, match=f"broken at event {second.pk} .*altered"):
        call_command("verify_audit")


def test_a_plain_row_added_after_keyed_rows_is_named(physio):
    """The application's role may INSERT: a forged row hashed the old, public way is refused."""
    record(Action.VIEW, user=physio)
    last = AuditEvent.objects.get()
    forged = AuditEvent(
        at=now(), action=Action.VIEW, detail="never happened", key_id=0, previous_hash=last.hash
    )
    forged.hash = legacy_hash(forged, last.hash)
    with connection.cursor() as cursor:  # no trigger in the way: INSERT is what the trail takes
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_email, action, object_type, object_id, user_agent, "
            "detail, previous_hash, hash, key_id) VALUES (%s, '', %s, '', '', '', %s, %s, %s, 0) "
            "RETURNING id",
            [forged.at, forged.action, forged.detail, forged.previous_hash, forged.hash],
        )
        forged_id = cursor.fetchone()[0]
    with pytest.raises(
        CommandError, match=f"broken at event {forged_id} .*plain SHA-256 hash after keyed rows"
    ):
        call_command("verify_audit")


def start_django(**environment):
    """Start Django's settings in a fresh interpreter with this environment; (exit status, stderr)."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AUDIT_HMAC", "DEBUG"))
    } | environment
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr


def test_production_refuses_to_start_without_a_key():
    status, errors = start_django(DEBUG="0")
    assert status != 0
    assert "AUDIT_HMAC_KEY is not set" in errors


def test_production_refuses_a_short_key():
    status, errors = start_django(DEBUG="0", AUDIT_HMAC_KEY="short")
    assert status != 0
    assert "AUDIT_HMAC_KEY must be at least 32 characters" in errors


def test_retired_keys_must_be_id_key_pairs():
    status, errors = start_django(DEBUG="0", AUDIT_HMAC_KEY="x" * 40, AUDIT_HMAC_RETIRED_KEYS="old-key")
    assert status != 0
    assert "AUDIT_HMAC_RETIRED_KEYS must be comma-separated id:key pairs" in errors


def test_the_current_key_id_cannot_be_the_legacy_one():
    status, errors = start_django(DEBUG="0", AUDIT_HMAC_KEY="x" * 40, AUDIT_HMAC_KEY_ID="0")
    assert status != 0
    assert "AUDIT_HMAC_KEY_ID must be a whole number from 1 to 32767" in errors


def test_production_starts_with_a_key_and_its_retired_ones():
    status, errors = start_django(
        DEBUG="0", AUDIT_HMAC_KEY="x" * 40, AUDIT_HMAC_KEY_ID="3", AUDIT_HMAC_RETIRED_KEYS="1:aaa,2:bbb"
    )
    assert status == 0, errors


def test_development_starts_without_a_key():
    status, errors = start_django(DEBUG="1")
    assert status == 0, errors
