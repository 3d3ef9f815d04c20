"""The summaries the dashboards read are kept by the database: whatever writes the needling tables (the
ORM, a bulk INSERT ... SELECT), the counts match a recount from scratch."""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from reports.models import AppointmentDay, MuscleDay, MuscleDayTotal, SessionSummary
from tests.factories import PatientFactory, PhysioFactory, give_consent, muscle, needle
from tests.reports.conftest import add_session, at

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


def snapshot():
    sessions = {
        s.session_id: (s.points, s.twitches, s.neck_points, s.mid_back_points, s.pain_before, s.clinician_id)
        for s in SessionSummary.objects.all()
    }
    days = {
        (d.day, d.clinician_id, d.location_id, d.muscle_id): (d.points, d.twitches)
        for d in MuscleDay.objects.all()
        if d.points
    }
    totals = {(t.day, t.muscle_id): (t.points, t.twitches) for t in MuscleDayTotal.objects.all() if t.points}
    appointments = {
        (a.day, a.therapist_id, a.location_id, a.status): a.appointments
        for a in AppointmentDay.objects.all()
        if a.appointments
    }
    return sessions, days, totals, appointments


def recounted():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")
    return snapshot()


def test_sessions_and_points_saved_through_the_orm_are_counted(clinic):
    before = snapshot()
    ben = before[0][clinic.sessions["ben"].pk]
    assert ben[:4] == (3, 0, 0, 0)
    covered = before[0][clinic.sessions["covered"].pk]
    assert covered[:4] == (2, 1, 2 - 1, 0)  # upper trapezius is a neck muscle, infraspinatus is not
    assert before == recounted()


def test_editing_a_draft_point_moves_its_counts(clinic):
    point = clinic.sessions["ben"].points.first()
    # An UPDATE statement, as an import or a correction script would run: a mid back point now, so it
    # names the consent allowing the mid back (the database requires it).
    consent = point.session.patient.consents.get()
    moved = {"muscle": muscle("Rhomboid major"), "twitch_response": "multiple", "region_consent": consent}
    type(point).objects.filter(pk=point.pk).update(**moved)
    summary = SessionSummary.objects.get(session_id=clinic.sessions["ben"].pk)
    assert (summary.points, summary.twitches, summary.mid_back_points) == (3, 1, 1)
    assert snapshot() == recounted()


def test_moving_a_draft_to_another_day_and_clinician_moves_its_muscle_counts(clinic):
    session = clinic.sessions["ben"]
    session.started_at += timedelta(days=2)
    session.clinician = clinic.anna
    session.pain_before = 9
    session.save()
    summary = SessionSummary.objects.get(session_id=session.pk)
    assert (summary.clinician_id, summary.pain_before, summary.started_at) == (
        clinic.anna.pk,
        9,
        session.started_at,
    )
    gluteus = muscle("Gluteus medius").pk
    moved_to = session.started_at.astimezone(at(clinic.report_filter.start, 0).tzinfo).date()
    assert MuscleDay.objects.get(day=moved_to, clinician_id=clinic.anna.pk, muscle_id=gluteus).points == 3
    assert snapshot() == recounted()


@pytest.mark.django_db
def test_a_bulk_insert_of_points_is_counted_by_one_statement():
    physio = PhysioFactory()
    sessions = [
        add_session(PatientFactory(), physio, at(day, 9), [])
        for day in (date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6))
    ]
    consents = [give_consent(session.patient) for session in sessions]
    with connection.cursor() as cursor:
        # Recorded now, under the consent each patient has just given. "Now" is the test's clock, stated
        # in the row: the column's default reads the database's clock, which `make test-clock` does not
        # move, so a consent signed at the test's instant would postdate the point.
        cursor.execute(
            """INSERT INTO treatments_needlepoint (session_id, "order", muscle_id, side, segment,
                   needle_size_id, depth_mm, insertions, technique, twitch_response, patient_response,
                   depth_confirmed, notes, consent_id, region_consent_id, recorded_at)
               SELECT s, k, %s, 'L', '', %s, 10, 1, 'pistoning',
                      CASE WHEN k %% 2 = 0 THEN 'single' ELSE 'none' END, 'none', false, '', c, c, %s
               FROM unnest(%s::bigint[], %s::bigint[]) u(s, c), generate_series(1, 40) k""",
            [
                muscle("Upper trapezius").pk,
                needle("0.25", 40).pk,
                timezone.now(),
                [s.pk for s in sessions],
                [c.pk for c in consents],
            ],
        )
    for session in sessions:
        summary = SessionSummary.objects.get(session_id=session.pk)
        assert (summary.points, summary.twitches, summary.neck_points) == (40, 20, 40)
    assert MuscleDay.objects.filter(clinician_id=physio.pk).count() == 3
    assert snapshot() == recounted()


def test_the_refresh_command_rebuilds_what_a_load_without_triggers_left_out(clinic, capsys):
    expected = snapshot()
    SessionSummary.objects.all().delete()
    MuscleDay.objects.all().delete()
    call_command("refresh_report_summaries")
    assert snapshot() == expected
    assert "Report summaries rebuilt" in capsys.readouterr().out


def test_a_cancelled_appointment_moves_from_booked_to_cancelled(clinic):
    from appointments.models import Appointment

    appointment = Appointment.objects.filter(therapist=clinic.ben, status="booked").get()
    day = clinic.report_filter.start + timedelta(days=1)
    key = {"day": day, "therapist_id": clinic.ben.pk, "location_id": clinic.east.pk}
    assert AppointmentDay.objects.get(**key, status="booked").appointments == 1
    appointment.status, appointment.cancel_reason = "cancelled", "Snow day"
    appointment.save()
    assert AppointmentDay.objects.get(**key, status="booked").appointments == 0
    assert AppointmentDay.objects.get(**key, status="cancelled").appointments == 1
    assert snapshot() == recounted()
