"""verify_audit against the five ways somebody with the table owner's rights can tamper with the trail:
change a row, delete a row, cut the end, rewrite a row and recompute every hash after it, empty the table.
Each is found, named (the event, or the checkpoint the chain no longer reaches) and exits 1."""

import hashlib
import hmac

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from audit.checkpoints import read_checkpoints
from audit.models import Action, AuditEvent
from audit.services import record
from tests.audit.tampering import empty_the_table, legacy_hash, rewrite_from, tamper

pytestmark = pytest.mark.django_db


def make_events(user, count=5):
    return [
        record(Action.VIEW, user=user, object_type="patients.patient", object_id=str(n), patient_id=n)
        for n in range(1, count + 1)
    ]


def verify_fails(match):
    with pytest.raises(CommandError, match=match) as raised:
        call_command("verify_audit")
    assert raised.value.returncode == 1
    return str(raised.value)


def test_each_event_links_to_the_one_before(physio):
    events = make_events(physio, 3)
    assert events[0].previous_hash == AuditEvent.GENESIS
    assert events[1].previous_hash == events[0].hash
    assert events[2].previous_hash == events[1].hash
    assert len({event.hash for event in events}) == 3


def test_an_intact_chain_verifies(physio, capsys):
    make_events(physio)
    call_command("verify_audit")
    assert "Audit chain intact: 5 events verified." in capsys.readouterr().out


def test_an_intact_chain_that_reaches_its_checkpoints_verifies(physio, capsys):
    make_events(physio, 3)
    call_command("audit_checkpoint")
    make_events(physio, 2)
    call_command("audit_checkpoint")
    capsys.readouterr()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Audit chain intact: 5 events verified." in out
    assert "It reaches all 2 checkpoint(s)" in out


def test_without_checkpoints_it_says_a_cut_would_go_unnoticed(physio, capsys):
    make_events(physio, 1)
    call_command("verify_audit")
    assert "No checkpoints in" in capsys.readouterr().out


def test_the_scheduled_check_can_require_checkpoints(physio, audit_checkpoint_dir):
    """A checkpoint folder that is not mounted must not pass for an intact trail in production."""
    make_events(physio, 1)
    with pytest.raises(CommandError, match="No checkpoints in .*is the folder mounted") as raised:
        call_command("verify_audit", "--require-checkpoints")
    assert raised.value.returncode == 1
    call_command("audit_checkpoint")
    call_command("verify_audit", "--require-checkpoints")


# --- 1. a changed middle row ---------------------------------------------------------------------------
def test_a_changed_row_is_named(physio):
    events = make_events(physio)
    tamper("UPDATE audit_auditevent SET patient_id = 99 WHERE id = %s", [events[2].pk])
    message = verify_fails(f"broken at event {events[2].pk} .*altered")
    assert str(events[3].pk) not in message.splitlines()[0]


# --- 2. a deleted middle row ---------------------------------------------------------------------------
def test_a_removed_row_is_found_at_the_next_one(physio):
    events = make_events(physio)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    verify_fails(f"broken at event {events[2].pk} .*removed or re-linked")


# --- 3. the last rows deleted ---------------------------------------------------------------------------
def test_events_cut_from_the_end_are_named_by_the_checkpoint_they_no_longer_reach(physio):
    events = make_events(physio, 25)
    call_command("audit_checkpoint")
    tamper("DELETE FROM audit_auditevent WHERE id > %s", [events[4].pk])
    assert AuditEvent.objects.count() == 5  # the remaining chain is itself intact
    message = verify_fails(
        f"does not reach the checkpoint of .* recorded 25 events up to event {events[-1].pk}, "
        f"but the chain now ends at event {events[4].pk} \\(5 events\\): events were cut from its end"
    )
    assert "audit-checkpoints-" in message and "line 1" in message


def test_events_cut_after_the_last_checkpoint_are_not_seen_until_the_next(physio):
    """The window a checkpoint schedule leaves open: rows written since the last checkpoint."""
    events = make_events(physio, 5)
    call_command("audit_checkpoint")
    later = make_events(physio, 3)
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [later[0].pk])
    call_command("verify_audit")
    assert AuditEvent.objects.order_by("-id").first().pk == events[-1].pk


# --- 4. a row rewritten and every later hash recomputed ----------------------------------------------------
def test_a_rewrite_rehashed_with_the_old_unkeyed_hash_is_named(physio):
    events = make_events(physio, 8)
    rewrite_from(
        events[3].pk, detail="nothing happened", rehash=lambda row, prev: (0, legacy_hash(row, prev))
    )
    verify_fails(f"broken at event {events[3].pk} .*plain SHA-256 hash after keyed rows")


def test_a_rewrite_rehashed_with_a_guessed_key_is_named(physio):
    events = make_events(physio, 12)

    def guessed(row, previous):
        message = f"audit event\n1\n{previous}\n{row.canonical()}"
        return 1, hmac.new(b"guess", message.encode(), hashlib.sha256).hexdigest()

    rewrite_from(events[3].pk, detail="nothing happened", rehash=guessed)
    message = verify_fails(f"broken at event {events[3].pk} .*keyed hash")
    assert message.count("Audit chain broken at event") == 5
    assert "4 more event(s) further on do not hold either" in message


def test_a_rewrite_rehashed_with_the_stolen_key_is_named_by_the_checkpoint(physio):
    """Even the key itself cannot rewrite what a checkpoint outside the database already vouched for."""
    events = make_events(physio, 8)
    call_command("audit_checkpoint")
    rewrite_from(
        events[3].pk, detail="nothing happened", rehash=lambda row, prev: (1, row.compute_hash(prev))
    )
    verify_fails(
        f"Event {events[-1].pk} does not match the checkpoint of .*line 1\\): its hash changed since"
    )


# --- 5. the table emptied ---------------------------------------------------------------------------------
def test_an_emptied_table_is_named_by_the_checkpoint(physio):
    events = make_events(physio, 6)
    call_command("audit_checkpoint")
    empty_the_table()
    assert AuditEvent.objects.count() == 0
    verify_fails(
        f"recorded 6 events up to event {events[-1].pk}, but the table now holds no events: "
        "it was emptied \\(TRUNCATE\\)"
    )


# --- how it reports --------------------------------------------------------------------------------------
def test_verify_audit_exits_with_status_1_from_the_command_line(physio):
    make_events(physio, 2)
    events = list(AuditEvent.objects.order_by("id"))
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [events[0].pk])
    utility = ManagementUtility(["manage.py", "verify_audit"])
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code == 1


def test_it_names_every_problem_at_once(physio):
    events = make_events(physio, 6)
    call_command("audit_checkpoint")
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [events[1].pk])
    tamper("DELETE FROM audit_auditevent WHERE id > %s", [events[3].pk])
    message = verify_fails("broken at event")
    assert f"broken at event {events[1].pk}" in message
    assert f"up to event {events[-1].pk}" in message


def test_a_restored_backup_is_checked_against_the_checkpoints_of_its_time(physio, settings, capsys):
    """A database restored from last night's backup lacks the events written since: --checkpoints-until
    checks only the checkpoints written up to the backup."""
    make_events(physio, 3)
    call_command("audit_checkpoint")
    tail = make_events(physio, 3)
    call_command("audit_checkpoint")
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [tail[0].pk])  # what the backup lacks
    verify_fails("events were cut from its end")
    first, second = read_checkpoints(settings.AUDIT_CHECKPOINT_DIR)[0]
    capsys.readouterr()
    call_command("verify_audit", "--checkpoints-until", first.at.isoformat())
    assert "Audit chain intact: 3 events verified." in capsys.readouterr().out
    with pytest.raises(CommandError, match="cut from its end"):
        call_command("verify_audit", "--checkpoints-until", second.at.isoformat())
