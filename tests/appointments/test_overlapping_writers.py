"""Two bookings written at the same instant: they take turns, and neither is ever shown a 500.

Two overlapping INSERTs at the same instant can each reach the exclusion constraint's check after the
other's row is in; each then waits for the other, and PostgreSQL fails one with "deadlock detected" (a CI
run of test_waitlist's race saw it). So every write the constraints check first locks its parties
(hold_parties(): therapist, patient, room), and the second writer waits there for the first's commit;
and a run that PostgreSQL still fails to break a deadlock is run again (retry_deadlocked()). The instant
itself cannot be arranged from outside, so the retry's tests build a real deadlock of the same shape
inside book()'s transaction, with row locks, and check what the retry promises: the failed run leaves
nothing behind (no row, no history, no audit event, no e-mail), and the run again books once.
"""

import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection, connections, transaction

from appointments.models import Appointment, AppointmentStatusChange, Reminder, ReminderKind, Status
from appointments.services import booking, status_changes
from appointments.services.booking import TAKEN, BookingError, book, reschedule, retry_deadlocked
from appointments.services.status_changes import confirm, undo_check_in
from audit.models import Action, AuditEvent
from audit.services import audited_transaction
from tests.factories import AppointmentFactory, FrontDeskFactory, PatientFactory


def waiting_for(pid):
    """What the backend `pid` waits for: ("Lock", "advisory"), ("Lock", "transactionid"), or None."""
    with connections["default"].cursor() as cursor:
        # Inside a transaction pg_stat_activity is read once and kept: clear it to see it as it is now.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return tuple(row) if row and row[0] == "Lock" else None


def waiting_for_a_lock(pid):
    return waiting_for(pid) is not None


class Deadlock:
    """Locks two rows (patients `first` and `second`) in opposite orders from this thread and another, so
    that the first run of `inside()` deadlocks with the other thread. This thread starts waiting first, so
    its deadlock_timeout runs out first and PostgreSQL fails this side; the other side then commits."""

    def __init__(self, first, second):
        self.first, self.second = first, second
        self.runs = 0
        self.other_holds_second = threading.Event()
        self.errors = []

    def other(self, pid):
        try:
            with transaction.atomic():
                list(type(self.second).objects.select_for_update().filter(pk=self.second.pk))
                self.other_holds_second.set()
                deadline = time.monotonic() + 10
                while not waiting_for_a_lock(pid) and time.monotonic() < deadline:
                    time.sleep(0.01)
                list(type(self.first).objects.select_for_update().filter(pk=self.first.pk))
        except Exception as error:  # noqa: BLE001 (reported by the test)
            self.errors.append(error)
        finally:
            connections.close_all()

    def inside(self):
        self.runs += 1
        list(type(self.first).objects.select_for_update().filter(pk=self.first.pk))
        if self.runs == 1:
            assert self.other_holds_second.wait(10)
            list(type(self.second).objects.select_for_update().filter(pk=self.second.pk))

    def start(self):
        thread = threading.Thread(target=self.other, args=(connection.connection.info.backend_pid,))
        thread.start()
        return thread


@pytest.fixture
def rows(transactional_db):
    connection.ensure_connection()
    return PatientFactory(), PatientFactory()


def request_deadlock(rows, monkeypatch, service=booking):
    """The service's record() (booking's unless given) made to deadlock, once, with another thread
    (Deadlock); start() it."""
    deadlock = Deadlock(*rows)
    real_record = service.record

    def record_after_a_deadlock(*args, **kwargs):
        deadlock.inside()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(service, "record", record_after_a_deadlock)
    return deadlock


def audited(kind):
    return AuditEvent.objects.filter(action=kind).count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "nested", [False, True], ids=["its own transaction", "inside another (the waitlist)"]
)
def test_a_booking_failed_by_a_deadlock_books_once_when_run_again(
    rows, therapist, patient, follow_up, at, monkeypatch, nested
):
    desk = FrontDeskFactory()
    deadlock = request_deadlock(rows, monkeypatch)
    other = deadlock.start()
    if nested:
        with audited_transaction():
            appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    else:
        appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    other.join()
    assert deadlock.errors == []
    assert deadlock.runs == 2  # failed once, by PostgreSQL, then run again
    assert list(Appointment.objects.values_list("pk", "status")) == [(appointment.pk, Status.BOOKED)]
    assert AppointmentStatusChange.objects.filter(appointment=appointment).count() == 1
    assert audited(Action.BOOK) == 1
    assert Reminder.objects.filter(appointment=appointment, kind=ReminderKind.BOOKING).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_failed_by_a_deadlock_moves_once_when_run_again(
    rows, therapist, patient, follow_up, at, monkeypatch
):
    desk = FrontDeskFactory()
    appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    sequence = appointment.sequence
    deadlock = request_deadlock(rows, monkeypatch)
    other = deadlock.start()
    moved = reschedule(appointment, start=at(11), by=desk)
    other.join()
    assert deadlock.errors == [] and deadlock.runs == 2
    assert moved.start == at(11) and moved.sequence == sequence + 1
    assert (
        AppointmentStatusChange.objects.filter(
            appointment=appointment, note__startswith="rescheduled"
        ).count()
        == 1
    )
    assert audited(Action.RESCHEDULE) == 1
    # The failed run's on_commit e-mail went with it: one "moved" notice.
    assert Reminder.objects.filter(appointment=appointment, kind=ReminderKind.RESCHEDULED).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "step,before,after",
    [
        (lambda a, desk: confirm(a, by=desk), Status.BOOKED, Status.CONFIRMED),
        (lambda a, desk: undo_check_in(a, by=desk, reason="wrong patient"), Status.ARRIVED, Status.BOOKED),
    ],
    ids=["confirm", "undo check-in"],
)
def test_a_status_change_failed_by_a_deadlock_is_made_once_when_run_again(
    rows, at, monkeypatch, step, before, after
):
    """A status is in the exclusion constraints' condition: the row's new version is checked against the
    others, and a writer without the party locks (an import) can deadlock with it. Run again, it is made
    once."""
    desk = FrontDeskFactory()
    appointment = AppointmentFactory(start=at(9), status=before)
    deadlock = request_deadlock(rows, monkeypatch, service=status_changes)
    other = deadlock.start()
    step(appointment, desk)
    other.join()
    assert deadlock.errors == [] and deadlock.runs == 2
    assert Appointment.objects.get(pk=appointment.pk).status == after
    assert list(AppointmentStatusChange.objects.values_list("from_status", "to_status")) == [(before, after)]
    assert audited(Action.STATUS) == 1


def failure(cause):
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "cause",
    [psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), None],
    ids=["statement timeout", "no database cause"],
)
def test_only_a_deadlock_is_run_again(cause):
    runs = []

    def block():
        runs.append(1)
        raise failure(cause)

    with pytest.raises(OperationalError):
        retry_deadlocked(block)
    assert len(runs) == 1


def test_a_deadlock_that_stays_is_raised_after_the_last_run():
    runs = []

    def block():
        runs.append(1)
        raise failure(psycopg.errors.DeadlockDetected("deadlock detected"))

    with pytest.raises(OperationalError, match="deadlock detected"):
        retry_deadlocked(block, attempts=3)
    assert len(runs) == 3


@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_overlapping_bookings_waits_for_the_first_and_is_told_taken(
    therapist, patient, follow_up, at
):
    """The first booking is written and not yet committed; the second, for another patient at the same
    time with the same therapist, waits at the therapist's party lock (not in the constraint's check,
    where two such writers can deadlock), and once the first commits it is refused with TAKEN."""
    desk = FrontDeskFactory()
    other_patient = PatientFactory()
    outcome = []

    def second():
        try:
            book(patient=other_patient, therapist=therapist, type=follow_up, start=at(9, 15), by=desk)
            outcome.append("booked")
        except BookingError as error:
            outcome.append(error.messages[0])
        except Exception as error:  # noqa: BLE001 (a 500 on the page)
            outcome.append(f"crash: {error!r}")
        finally:
            connections.close_all()

    waits = set()
    with transaction.atomic():
        first = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 60  # generous: the machine may be loaded
        while not waits and thread.is_alive() and time.monotonic() < deadline:
            waits = {waiting_for(pid) for pid in other_backends()} - {None}
            time.sleep(0.01)
    thread.join()
    assert waits == {("Lock", "advisory")}, outcome
    assert outcome == [TAKEN]
    assert list(Appointment.objects.values_list("pk", flat=True)) == [first.pk]


def other_backends():
    """The backends on this test database other than this thread's."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]
