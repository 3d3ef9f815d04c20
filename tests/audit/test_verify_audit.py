import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import Action, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db


def make_events(user, count=5):
    return [
        record(Action.VIEW, user=user, object_type="patients.patient", object_id=str(n), patient_id=n)
        for n in range(1, count + 1)
    ]


def tamper(sql, params):
    """What an intruder with the table owner's rights could do: switch the trigger off and edit."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred FK checks would block ALTER TABLE
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


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


def test_an_altered_row_is_named(physio):
    events = make_events(physio)
    tamper("UPDATE audit_auditevent SET patient_id = 99 WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk} .*altered") as raised:
        call_command("verify_audit")
    assert raised.value.returncode == 1


def test_a_removed_row_is_found_at_the_next_one(physio):
    events = make_events(physio)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk} .*removed or re-linked"):
        call_command("verify_audit")


def test_a_rehashed_row_still_breaks_the_link_of_the_next(physio):
    events = make_events(physio)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.detail = "nothing happened"
    forged_hash = forged.compute_hash(forged.previous_hash)
    tamper(
        "UPDATE audit_auditevent SET detail = %s, hash = %s WHERE id = %s",
        [forged.detail, forged_hash, forged.pk],
    )
    with pytest.raises(CommandError, match=f"broken at event {events[2].pk}"):
        call_command("verify_audit")


def test_verify_audit_exits_with_status_1_from_the_command_line(physio):
    make_events(physio, 2)
    events = list(AuditEvent.objects.order_by("id"))
    tamper("UPDATE audit_auditevent SET detail = 'x' WHERE id = %s", [events[0].pk])
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "verify_audit"])
    with pytest.raises(SystemExit) as exited:
        utility.execute()
    assert exited.value.code == 1
