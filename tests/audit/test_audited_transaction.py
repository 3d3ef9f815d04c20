"""audited_transaction(): a change and its audit events commit or roll back together, and the events
are inserted as the block ends (so the chain's lock is not held while the block works)."""

import pytest
from django.core.management import call_command
from django.db import transaction

from audit.models import Action, AuditEvent
from audit.services import audited_transaction, record

pytestmark = pytest.mark.django_db


class Refused(Exception):
    pass


def details():
    return list(AuditEvent.objects.order_by("id").values_list("detail", flat=True))


def test_events_are_inserted_together_as_the_block_ends(physio):
    with audited_transaction():
        first = record(Action.VIEW, user=physio, detail="first")
        second = record(Action.VIEW, user=physio, detail="second")
        assert details() == []  # held: nothing locked or written yet
        assert first.pk is None
    assert details() == ["first", "second"]
    assert (first.pk, second.pk) == tuple(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert second.previous_hash == first.hash
    call_command("verify_audit")


def test_a_block_that_fails_leaves_neither_the_change_nor_its_event(physio):
    with pytest.raises(Refused), audited_transaction():
        physio.full_name = "Changed"
        physio.save()
        record(Action.UPDATE, user=physio, obj=physio, detail="renamed")
        raise Refused
    physio.refresh_from_db()
    assert physio.full_name != "Changed"
    assert details() == []


def test_a_nested_block_that_fails_drops_only_its_own_events(physio):
    with audited_transaction():
        record(Action.VIEW, user=physio, detail="outer")
        try:
            with audited_transaction():
                record(Action.VIEW, user=physio, detail="inner, rolled back")
                raise Refused
        except Refused:
            pass
        with audited_transaction():
            record(Action.VIEW, user=physio, detail="inner, kept")
    assert details() == ["outer", "inner, kept"]


def test_a_block_marked_for_rollback_drops_its_events(physio):
    with audited_transaction():
        record(Action.VIEW, user=physio, detail="kept")
        with audited_transaction():
            record(Action.VIEW, user=physio, detail="dropped")
            transaction.set_rollback(True)
    assert details() == ["kept"]


def test_an_event_inside_a_plain_savepoint_goes_with_that_savepoint(physio):
    """A plain atomic block inside an audited one may roll back on its own: its events are inserted at
    once, in it, rather than held where its rollback could not reach them."""
    with audited_transaction():
        try:
            with transaction.atomic():
                record(Action.VIEW, user=physio, detail="in a savepoint that fails")
                assert details() == ["in a savepoint that fails"]
                raise Refused
        except Refused:
            pass
        record(Action.VIEW, user=physio, detail="held")
    assert details() == ["held"]
    call_command("verify_audit")


def test_record_inside_a_plain_transaction_joins_it(physio):
    """The older style, record() inside transaction.atomic(), still commits or rolls back with the change."""
    with pytest.raises(Refused), transaction.atomic():
        record(Action.VIEW, user=physio, detail="rolled back")
        assert details() == ["rolled back"]
        raise Refused
    assert details() == []
    with transaction.atomic():
        record(Action.VIEW, user=physio, detail="committed")
    assert details() == ["committed"]


def test_inside_a_plain_transaction_the_events_are_inserted_when_the_audited_block_ends(physio):
    with pytest.raises(Refused), transaction.atomic():
        with audited_transaction():
            record(Action.VIEW, user=physio, detail="inner")
        assert details() == ["inner"]
        raise Refused
    assert details() == []


def test_it_can_decorate_a_service(physio):
    @audited_transaction()
    def rename(user, name):
        user.full_name = name
        user.save()
        record(Action.UPDATE, user=user, obj=user, detail="renamed")
        raise Refused

    with pytest.raises(Refused):
        rename(physio, "Changed")
    assert details() == []
