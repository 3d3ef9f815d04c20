"""manage.py audit_checkpoint: a signed line per run recording the chain's head, outside the database,
written only when the rows since the last checkpoint hold; verify_audit refuses edited or forged lines."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.checkpoints import Checkpoint, line_for, read_checkpoints
from audit.models import Action, AuditEvent
from audit.services import record
from tests.audit.tampering import empty_the_table, tamper

pytestmark = pytest.mark.django_db


def make_events(user, count):
    return [record(Action.VIEW, user=user, patient_id=n) for n in range(1, count + 1)]


def lines(directory):
    return [line for path in sorted(directory.glob("*.jsonl")) for line in path.read_text().splitlines()]


def test_it_appends_a_signed_line_with_the_head_to_this_months_file(physio, audit_checkpoint_dir, capsys):
    events = make_events(physio, 3)
    call_command("audit_checkpoint")
    [path] = audit_checkpoint_dir.glob("audit-checkpoints-*.jsonl")
    [line] = path.read_text().splitlines()
    fields = json.loads(line)
    assert fields["count"] == 3
    assert (fields["last_id"], fields["last_hash"], fields["key_id"]) == (events[-1].pk, events[-1].hash, 1)
    assert len(fields["signature"]) == 64
    assert f"Checkpoint written to {path}: 3 events, head event {events[-1].pk}." in capsys.readouterr().out


def test_each_run_adds_a_line_counting_on_from_the_last(physio, audit_checkpoint_dir):
    make_events(physio, 2)
    call_command("audit_checkpoint")
    make_events(physio, 3)
    call_command("audit_checkpoint")
    call_command("audit_checkpoint")  # nothing new: the same head again
    counts = [json.loads(line)["count"] for line in lines(audit_checkpoint_dir)]
    assert counts == [2, 5, 5]


def test_an_empty_trail_gets_a_checkpoint_of_nothing(db, audit_checkpoint_dir):
    call_command("audit_checkpoint")
    fields = json.loads(lines(audit_checkpoint_dir)[0])
    assert (fields["count"], fields["last_id"]) == (0, None)
    call_command("verify_audit")


def test_the_folder_is_a_setting(physio, settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "elsewhere" / "checkpoints"
    make_events(physio, 1)
    call_command("audit_checkpoint")
    assert len(lines(settings.AUDIT_CHECKPOINT_DIR)) == 1


def test_it_refuses_to_vouch_for_a_chain_broken_since_the_last_checkpoint(physio, audit_checkpoint_dir):
    make_events(physio, 2)
    call_command("audit_checkpoint")
    later = make_events(physio, 2)
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [later[0].pk])
    with pytest.raises(CommandError, match=f"broken at event {later[0].pk}") as raised:
        call_command("audit_checkpoint")
    assert raised.value.returncode == 1
    assert len(lines(audit_checkpoint_dir)) == 1


def test_it_refuses_when_the_last_checkpoints_head_is_gone(physio, audit_checkpoint_dir):
    events = make_events(physio, 4)
    call_command("audit_checkpoint")
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    with pytest.raises(
        CommandError, match=f"no longer reaches the checkpoint of .*event {events[-1].pk} is gone"
    ):
        call_command("audit_checkpoint")
    assert len(lines(audit_checkpoint_dir)) == 1


def test_an_edited_checkpoint_line_is_named(physio, audit_checkpoint_dir):
    """Raising a checkpoint's count, or lowering it to hide a cut, breaks its signature."""
    make_events(physio, 3)
    call_command("audit_checkpoint")
    [path] = audit_checkpoint_dir.glob("*.jsonl")
    fields = json.loads(path.read_text())
    fields["count"] = 2
    path.write_text(json.dumps(fields) + "\n")
    with pytest.raises(CommandError, match=f"{path.name} line 1: its signature does not match") as raised:
        call_command("verify_audit")
    assert raised.value.returncode == 1
    with pytest.raises(CommandError, match="signature does not match"):
        call_command("audit_checkpoint")


def test_a_checkpoint_forged_without_the_key_is_named(physio, audit_checkpoint_dir, settings):
    """Somebody who emptied the table and can write the folder cannot sign a checkpoint that agrees."""
    make_events(physio, 3)
    call_command("audit_checkpoint")
    empty_the_table()
    [path] = audit_checkpoint_dir.glob("*.jsonl")
    real_keys = settings.AUDIT_HMAC_KEYS
    settings.AUDIT_HMAC_KEYS = {1: b"a guessed key that is not the clinic's"}
    forged = Checkpoint(at=timezone.now(), count=0, last_id=None, last_hash=AuditEvent.GENESIS, key_id=1)
    path.write_text(line_for(forged) + "\n")
    settings.AUDIT_HMAC_KEYS = real_keys
    with pytest.raises(CommandError, match="line 1: its signature does not match"):
        call_command("verify_audit")


def test_a_line_that_is_not_a_checkpoint_is_named(physio, audit_checkpoint_dir):
    audit_checkpoint_dir.mkdir()
    (audit_checkpoint_dir / "audit-checkpoints-2026-01.jsonl").write_text('{"count": 3}\nnot json\n')
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit")
    message = str(raised.value)
    assert "audit-checkpoints-2026-01.jsonl line 1: not a checkpoint line" in message
    assert "audit-checkpoints-2026-01.jsonl line 2: not a checkpoint line" in message


def test_checkpoints_signed_with_a_retired_key_still_count(physio, settings, capsys):
    settings.AUDIT_HMAC_KEYS = {1: b"old" * 12}
    settings.AUDIT_HMAC_KEY_ID = 1
    make_events(physio, 2)
    call_command("audit_checkpoint")
    settings.AUDIT_HMAC_KEYS = {2: b"new" * 12, 1: b"old" * 12}
    settings.AUDIT_HMAC_KEY_ID = 2
    make_events(physio, 1)
    call_command("audit_checkpoint")
    checkpoints, problems = read_checkpoints(settings.AUDIT_CHECKPOINT_DIR)
    assert ([c.key_id for c in checkpoints], problems) == ([1, 2], [])
    capsys.readouterr()
    call_command("verify_audit")
    assert "It reaches all 2 checkpoint(s)" in capsys.readouterr().out
    assert AuditEvent.objects.count() == 3
