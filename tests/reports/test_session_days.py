"""The dashboard's session figures come from rollups of the session summaries, kept by triggers: per day,
clinician and location (reports 0010), per day and location for all clinicians together, and sessions per
month, clinician and location for the per-therapist table's whole months (0011). Whatever happens to the
sessions (points recorded, removed in error, pain written and the session signed days later, addenda,
consent withdrawn), the figures equal a straight aggregate over the sessions themselves, for any range,
therapist and location, with days cut in the clinic's time zone. The appointments' figures likewise, from
their rollups per day, therapist, location and status, per day, location and status for all therapists
together, and per month, therapist, location and status (0012), whatever statuses and days the
appointments move to."""

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import services
from reports.filters import ReportFilter
from reports.models import (
    AppointmentDay,
    AppointmentDayTotal,
    AppointmentMonth,
    AppointmentMonthTotal,
    AppointmentWeekTotal,
    MuscleDayTotal,
    MuscleMonthTotal,
    SessionDay,
    SessionDayTotal,
    SessionMonth,
    SessionMonthTotal,
    SessionSummary,
    SessionWeekTotal,
)
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    complete_session,
    give_consent,
)
from tests.reports.conftest import add_session

# Its outcome depends on the clock: pinned here, and `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock

VANCOUVER = ZoneInfo("America/Vancouver")
# The Saturday before Vancouver's clocks go forward (8 March 2026, 02:00): a 23-hour day in the range.
NOW = datetime(2026, 3, 7, 9, 0, tzinfo=VANCOUVER)
FIRST_DAY = date(2026, 3, 8)
DAYS = 4
# Local times either side of midnight, and two in the day, 40 minutes apart at least (an appointment is
# 30): each therapist uses each slot at most once.
SLOTS = [time(0, 0), time(0, 40), time(10, 0), time(14, 0), time(23, 0), time(23, 40)]
NECK, MID_BACK, ELSEWHERE = "Upper trapezius", "Rhomboid major", "Gluteus medius"
TWITCHES = ["none", "single", "multiple"]


def local(day, at):
    return datetime.combine(day, at, tzinfo=VANCOUVER)


def straight(report_filter):
    """The figures counted session by session from the needling tables (no summary, no rollup): only the
    consent coverage comes from each session's summary, where the rule judged it when its points were
    recorded."""
    from treatments.models import NeedlingSession

    sessions = NeedlingSession.objects.filter(
        started_at__gte=report_filter.starts_at, started_at__lt=report_filter.ends_before
    ).select_related("appointment")
    if report_filter.therapist is not None:
        sessions = sessions.filter(clinician=report_filter.therapist)
    if report_filter.location is not None:
        sessions = sessions.filter(appointment__location=report_filter.location)
    unit = services.period_unit(report_filter)
    judged = {s.session_id: s for s in SessionSummary.objects.all()}
    figures = {
        "sessions": 0,
        "points": 0,
        "twitches": 0,
        "histogram": [0] * 11,
        "pain_sessions": 0,
        "pain_before": 0,
        "pain_after": 0,
        "improved": 0,
        "risk": 0,
        "covered": 0,
        "uncovered": set(),
        "per_period": {},
        "per_therapist": {},
        "muscles": {},
        "regions": {},
    }
    for session in sessions:
        needled = [p for p in session.points.select_related("muscle") if not hasattr(p, "removal")]
        figures["sessions"] += 1
        figures["points"] += len(needled)
        figures["twitches"] += sum(p.twitch_response != "none" for p in needled)
        figures["histogram"][min(len(needled), 10)] += 1
        for p in needled:  # the catalogue's name and body region, as the muscle's model shows them
            figures["muscles"][p.muscle.name] = figures["muscles"].get(p.muscle.name, 0) + 1
            region = p.muscle.get_body_region_display()
            figures["regions"][region] = figures["regions"].get(region, 0) + 1
        if session.pain_before is not None and session.pain_after is not None:
            figures["pain_sessions"] += 1
            figures["pain_before"] += session.pain_before
            figures["pain_after"] += session.pain_after
            figures["improved"] += session.pain_after < session.pain_before
        regions = {p.muscle.risk_region for p in needled}
        if regions & {"neck", "mid_back"}:
            figures["risk"] += 1
            summary = judged[session.pk]
            if ("neck" not in regions or summary.neck_consented) and (
                "mid_back" not in regions or summary.mid_back_consented
            ):
                figures["covered"] += 1
            else:
                figures["uncovered"].add(session.pk)
        day = session.started_at.astimezone(VANCOUVER).date()
        if unit == "week":
            day -= timedelta(days=day.weekday())
        elif unit == "month":
            day = day.replace(day=1)
        figures["per_period"][day] = figures["per_period"].get(day, 0) + 1
        name = session.clinician.full_name
        figures["per_therapist"][name] = figures["per_therapist"].get(name, 0) + 1
    figures.update(appointments_counted(report_filter, unit))
    return figures


def appointments_counted(report_filter, unit):
    """The appointment figures counted appointment by appointment (no rollup)."""
    from appointments.models import Appointment

    appointments = Appointment.objects.filter(
        start__gte=report_filter.starts_at, start__lt=report_filter.ends_before
    ).select_related("therapist")
    if report_filter.therapist is not None:
        appointments = appointments.filter(therapist=report_filter.therapist)
    if report_filter.location is not None:
        appointments = appointments.filter(location=report_filter.location)
    figures = {"appointments": 0, "attended": 0, "cancelled": 0, "no_show": 0}
    figures |= {"booked_per_period": {}, "booked_per_therapist": {}}
    for appointment in appointments:
        figures["appointments"] += 1
        figures["attended"] += appointment.status in ("arrived", "in_treatment", "completed")
        figures["cancelled"] += appointment.status == "cancelled"
        figures["no_show"] += appointment.status == "no_show"
        if appointment.status == "cancelled":
            continue
        day = appointment.start.astimezone(VANCOUVER).date()
        if unit == "week":
            day -= timedelta(days=day.weekday())
        elif unit == "month":
            day = day.replace(day=1)
        figures["booked_per_period"][day] = figures["booked_per_period"].get(day, 0) + 1
        name = appointment.therapist.full_name
        figures["booked_per_therapist"][name] = figures["booked_per_therapist"].get(name, 0) + 1
    return figures


def from_the_dashboard(report_filter):
    activity = services.activity(report_filter)
    needling = services.needling(report_filter)
    coverage = services.consent_coverage(report_filter, list_sessions=True)
    assert services.safety(report_filter).sessions == needling.sessions
    # The manager's dashboard takes the counts from needling()'s sums of the same rows.
    counted = services.consent_coverage(report_filter, counted=needling)
    assert (counted.risk_sessions, counted.covered) == (coverage.risk_sessions, coverage.covered)
    return {
        "sessions": needling.sessions,
        "points": needling.points,
        "twitches": needling.twitches,
        "histogram": [count for _, count in needling.points_histogram],
        "pain_sessions": needling.pain_sessions,
        "pain_before": round(needling.pain_before * needling.pain_sessions) if needling.pain_sessions else 0,
        "pain_after": round(needling.pain_after * needling.pain_sessions) if needling.pain_sessions else 0,
        "improved": needling.improved,
        "risk": coverage.risk_sessions,
        "covered": coverage.covered,
        "uncovered": {row["session_id"] for row in coverage.uncovered},
        "per_period": {day: n for day, n in activity.sessions_per_period.items() if n},
        "per_therapist": {name: sessions for name, _, sessions in activity.per_therapist if sessions},
        "muscles": dict(needling.muscles),
        "regions": dict(needling.regions),
        "appointments": activity.appointments,
        "attended": activity.attended,
        "cancelled": activity.cancelled,
        "no_show": activity.no_show,
        "booked_per_period": {day: n for day, n in activity.appointments_per_period.items() if n},
        "booked_per_therapist": {name: n for name, n, _ in activity.per_therapist if n},
    }


@pytest.fixture
def busy_days(db):
    """Four days of three therapists at two locations (and sessions with no appointment), at random but
    reproducible, with every kind of later change the summaries follow."""
    from consent.models import Region
    from consent.services.obtaining import withdraw_consent
    from treatments.models import NeedlingSession
    from treatments.services import add_addendum, remove_point, sign_session

    rng = random.Random(17)
    with time_machine.travel(NOW, tick=False) as clock:
        therapists = [PhysioFactory(full_name=f"Physio {n}") for n in range(3)]
        locations = [LocationFactory(name="Main clinic"), LocationFactory(name="East clinic")]
        sessions = []
        for therapist in therapists:
            slots = [(FIRST_DAY + timedelta(days=d), at) for d in range(DAYS) for at in SLOTS]
            for day, at in rng.sample(slots, 12):
                patient = PatientFactory()
                consent = rng.choice(["all", "all", "no mid back", "none"])
                if consent == "all":
                    give_consent(patient)
                elif consent == "no mid back":
                    give_consent(patient, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,))
                allowed = {"all": [NECK, MID_BACK, ELSEWHERE], "no mid back": [NECK, ELSEWHERE]}
                legacy = consent == "none" or rng.random() < 0.15  # a load that bypassed the entry rule
                muscles = [NECK, MID_BACK, ELSEWHERE] if legacy else allowed[consent]
                count = rng.choice([0, 1, 3, 12])
                points = [(rng.choice(muscles), rng.choice(TWITCHES)) for _ in range(count)]
                pain = (rng.randint(0, 10), rng.choice([None, rng.randint(0, 10)]))
                session = add_session(patient, therapist, local(day, at), points, pain=pain, legacy=legacy)
                where = rng.choice(locations + [None])
                if where is not None:
                    appointment = AppointmentFactory(
                        patient=patient, therapist=therapist, location=where, start=local(day, at)
                    )
                    NeedlingSession.objects.filter(pk=session.pk).update(appointment=appointment)
                sessions.append(session)
        # Two days later: some points removed in error, some sessions completed (pain written) and signed
        # late, addenda on some of those, and consents withdrawn before more legacy points are loaded.
        clock.move_to(local(FIRST_DAY + timedelta(days=DAYS + 2), time(9)))
        for session in rng.sample(sessions, 12):
            session.refresh_from_db()
            needled = list(session.points.filter(removal__isnull=True))
            if needled:
                remove_point(rng.choice(needled), by=session.clinician, reason="Entered on the wrong side")
        signed = rng.sample(sessions, 15)
        for session in signed:
            session.refresh_from_db()
            if session.signed_at is None:
                sign_session(complete_session(session, pain_after=rng.randint(0, 10)), by=session.clinician)
        for session in signed[:5]:
            add_addendum(session, by=session.clinician, text="Patient rang: soreness settled by the evening.")
        withdrawn = [s for s in sessions if s.patient.consents.exists()][:3]
        for session in withdrawn:
            consent = session.patient.consents.first()
            withdraw_consent(consent, by=session.clinician, reason="Changed their mind")
            add_session(
                session.patient,
                session.clinician,
                local(FIRST_DAY + timedelta(days=1), time(12, rng.randint(0, 59))),
                [(NECK, "single"), (MID_BACK, "none")],
                legacy=True,
            )
        more_appointments(rng, therapists, locations)
    return therapists, locations


# Days around the busy ones, in February, March and April: either side of both month ends, at times
# either side of local midnight (23:30 on 28 February is already 1 March in UTC).
OTHER_DAYS = [date(2026, 2, 14), date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 20)]
OTHER_DAYS += [date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 18)]
OTHER_TIMES = [time(0, 10), time(12, 0), time(23, 20)]


def more_appointments(rng, therapists, locations):
    """Appointments of every status on OTHER_DAYS, then some changed in one statement each: statuses
    changed (one a cancellation), and some moved to another day, month or location."""
    from appointments.models import Appointment, Status

    made = []
    for therapist in therapists:
        for day, at in rng.sample([(d, t) for d in OTHER_DAYS for t in OTHER_TIMES], 10):
            status = rng.choice(list(Status))
            made.append(
                AppointmentFactory(
                    therapist=therapist,
                    location=rng.choice(locations),
                    start=local(day, at),
                    status=status,
                    cancel_reason="Rang to cancel" if status == Status.CANCELLED else "",
                )
            )
    Appointment.objects.filter(pk__in=[a.pk for a in rng.sample(made, 6)]).exclude(
        status=Status.CANCELLED
    ).update(status=Status.NO_SHOW)
    Appointment.objects.filter(pk__in=[a.pk for a in rng.sample(made, 4)]).update(
        status=Status.CANCELLED, cancel_reason="Unwell"
    )
    Appointment.objects.filter(pk__in=[a.pk for a in rng.sample(made, 4)], status=Status.BOOKED).update(
        status=Status.COMPLETED
    )
    # Moved to another day (across a month end for some), at an hour of its own (none other starts at
    # xx:50), and to the other location.
    moves = zip(rng.sample(made, 8), [1, -1, 2, -2, 20, -20, 35, -35], range(1, 17, 2), strict=True)
    for appointment, days, hour in moves:
        day = appointment.start.astimezone(VANCOUVER).date() + timedelta(days=days)
        start = local(day, time(hour, 50))
        Appointment.objects.filter(pk=appointment.pk).update(
            start=start,
            end=start + (appointment.end - appointment.start),
            location=locations[0] if appointment.location == locations[1] else locations[1],
        )


def filters(therapists, locations):
    whole = ReportFilter(FIRST_DAY - timedelta(days=1), FIRST_DAY + timedelta(days=DAYS))
    rng = random.Random(3)
    ranges = [whole, ReportFilter(FIRST_DAY, FIRST_DAY)]
    ranges.append(ReportFilter(FIRST_DAY - timedelta(days=40), FIRST_DAY))
    for _ in range(6):
        start = FIRST_DAY + timedelta(days=rng.randint(-1, DAYS))
        ranges.append(ReportFilter(start, start + timedelta(days=rng.randint(0, 3))))
    # A range of months (figures per month) and one of weeks.
    ranges.append(ReportFilter(date(2026, 1, 1), date(2026, 12, 31)))
    ranges.append(ReportFilter(date(2026, 2, 1), date(2026, 4, 30)))
    # Whole months with days at either end, a whole month alone, and edges only (no whole month).
    ranges.append(ReportFilter(date(2026, 2, 15), FIRST_DAY + timedelta(days=1)))
    ranges.append(ReportFilter(date(2026, 3, 1), date(2026, 3, 31)))
    ranges.append(ReportFilter(FIRST_DAY + timedelta(days=2), date(2026, 5, 31)))
    ranges.append(ReportFilter(FIRST_DAY - timedelta(days=1), date(2026, 4, 3)))
    # Months covered in most of their days, which the per-therapist figures read whole with the days left
    # out taken away (services.months_plus_and_minus): one day out at the start, one at the end, both
    # ends of one month, and an edge month each side.
    ranges.append(ReportFilter(date(2026, 2, 2), date(2026, 4, 30)))
    ranges.append(ReportFilter(date(2026, 2, 1), date(2026, 3, 30)))
    ranges.append(ReportFilter(date(2026, 3, 2), date(2026, 3, 30)))
    ranges.append(ReportFilter(date(2026, 2, 10), date(2026, 4, 25)))
    # By week (reports 0014): whole weeks with busy days at either end outside them, from a Sunday and to a
    # Tuesday.
    ranges.append(ReportFilter(FIRST_DAY, date(2026, 5, 3)))
    ranges.append(ReportFilter(date(2026, 1, 20), FIRST_DAY + timedelta(days=2)))
    # March read whole less its first eleven days, which hold the busy days: the sessions' figures, the
    # muscles and the per-therapist counts are taken away from the month's.
    ranges.append(ReportFilter(FIRST_DAY + timedelta(days=DAYS), date(2026, 5, 31)))
    chosen = []
    for report_filter in ranges:
        chosen.append(report_filter)
        chosen.extend(replace(report_filter, therapist=t) for t in therapists)
        chosen.extend(replace(report_filter, location=place) for place in locations)
    chosen.append(replace(whole, therapist=therapists[0], location=locations[1]))
    return chosen


def test_the_dashboard_figures_equal_a_straight_count_of_the_sessions(busy_days):
    therapists, locations = busy_days
    assert SessionDay.objects.count() < SessionSummary.objects.count()  # rolled up, not one per session
    assert SessionDayTotal.objects.count() < SessionDay.objects.count()  # all clinicians together
    for report_filter in filters(therapists, locations):
        expected = straight(report_filter)
        assert from_the_dashboard(report_filter) == expected, report_filter.as_audit()
    whole = straight(filters(therapists, locations)[0])
    year = straight(ReportFilter(date(2026, 1, 1), date(2026, 12, 31)))
    assert year["cancelled"] and year["no_show"] and year["attended"] and year["booked_per_period"]
    # The weekly path (periods counted by date arithmetic in SQL) is compared above across a week's end:
    # the busy days run from a weekend into the next week.
    weekly = ReportFilter(date(2026, 2, 1), date(2026, 4, 30))
    assert services.period_unit(weekly) == "week"
    weeks = straight(weekly)
    assert len(weeks["per_period"]) >= 2 and len(weeks["booked_per_period"]) >= 2
    assert {day.weekday() for day in [*weeks["per_period"], *weeks["booked_per_period"]]} == {0}
    # Without a therapist, the whole weeks are read from their totals (reports 0014).
    with CaptureQueriesContext(connection) as captured:
        services.activity(weekly)
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "FROM reports_sessionweektotal m" in sql and "FROM reports_appointmentweektotal m" in sql
    assert AppointmentDayTotal.objects.count() < AppointmentDay.objects.count()  # all therapists together
    assert AppointmentMonth.objects.count() < AppointmentDay.objects.count()  # per month
    # The data covers what it should: every bucket that was made, late pain, uncovered and removed points.
    assert whole["sessions"] > 30 and whole["histogram"][10] and whole["histogram"][0]
    assert whole["pain_sessions"] and whole["improved"] and whole["uncovered"] and whole["covered"]


def rollup():
    return {
        (d.day, d.clinician_id, d.location_id): (
            d.sessions,
            d.sessions_by_points,
            d.points,
            d.twitches,
            d.pain_sessions,
            d.pain_before,
            d.pain_after,
            d.improved,
            d.risk_sessions,
            d.covered_sessions,
        )
        for d in SessionDay.objects.all()
        if d.sessions
    }


def summaries_added_up():
    """The session summaries added up per clinic day, clinician and location, in Python."""
    days = {}
    for s in SessionSummary.objects.all():
        key = (s.started_at.astimezone(VANCOUVER).date(), s.clinician_id, s.location_id)
        row = days.setdefault(key, [0, [0] * 11, 0, 0, 0, 0, 0, 0, 0, 0])
        both = s.pain_before is not None and s.pain_after is not None
        risk = s.neck_points > 0 or s.mid_back_points > 0
        covered = (s.neck_points == 0 or s.neck_consented) and (
            s.mid_back_points == 0 or s.mid_back_consented
        )
        row[0] += 1
        row[1][min(s.points, 10)] += 1
        row[2] += s.points
        row[3] += s.twitches
        row[4] += both
        row[5] += s.pain_before if both else 0
        row[6] += s.pain_after if both else 0
        row[7] += both and s.pain_after < s.pain_before
        row[8] += risk
        row[9] += risk and covered
    return {key: tuple(row) for key, row in days.items()}


def totals():
    """reports_sessiondaytotal as the clinician-day rollup's rows added up per day and location."""
    return {
        (d.day, d.location_id): (
            d.sessions,
            d.sessions_by_points,
            d.points,
            d.twitches,
            d.pain_sessions,
            d.pain_before,
            d.pain_after,
            d.improved,
            d.risk_sessions,
            d.covered_sessions,
        )
        for d in SessionDayTotal.objects.all()
        if d.sessions
    }


def months():
    return {
        (m.month, m.clinician_id, m.location_id): m.sessions for m in SessionMonth.objects.all() if m.sessions
    }


def totals_added_up():
    """The summaries added up per day and location, and per month, clinician and location, in Python."""
    per_day, per_month = {}, {}
    for (day, clinician_id, location_id), row in summaries_added_up().items():
        total = per_day.setdefault((day, location_id), [0, [0] * 11, 0, 0, 0, 0, 0, 0, 0, 0])
        for n, value in enumerate(row):
            if n == 1:
                total[1] = [a + b for a, b in zip(total[1], value, strict=True)]
            else:
                total[n] += value
        month = (day.replace(day=1), clinician_id, location_id)
        per_month[month] = per_month.get(month, 0) + row[0]
    return {key: tuple(row) for key, row in per_day.items()}, per_month


def appointment_rollups():
    """The appointments' three rollups, each without its emptied groups."""
    return (
        {
            (d.day, d.therapist_id, d.location_id, d.status): d.appointments
            for d in AppointmentDay.objects.all()
            if d.appointments
        },
        {
            (d.day, d.location_id, d.status): d.appointments
            for d in AppointmentDayTotal.objects.all()
            if d.appointments
        },
        {
            (m.month, m.therapist_id, m.location_id, m.status): m.appointments
            for m in AppointmentMonth.objects.all()
            if m.appointments
        },
    )


def appointments_added_up():
    """The appointments themselves counted per clinic day, therapist, location and status; per day,
    location and status; and per month, therapist, location and status, in Python."""
    from appointments.models import Appointment

    per_day, per_total, per_month = {}, {}, {}
    for a in Appointment.objects.all():
        day = a.start.astimezone(VANCOUVER).date()
        for counted, key in (
            (per_day, (day, a.therapist_id, a.location_id, a.status)),
            (per_total, (day, a.location_id, a.status)),
            (per_month, (day.replace(day=1), a.therapist_id, a.location_id, a.status)),
        ):
            counted[key] = counted.get(key, 0) + 1
    return per_day, per_total, per_month


def month_totals():
    """The three per-month totals of reports 0013, each without its emptied groups."""
    return (
        {
            (m.month, m.location_id): (
                m.sessions,
                m.sessions_by_points,
                m.points,
                m.twitches,
                m.pain_sessions,
                m.pain_before,
                m.pain_after,
                m.improved,
                m.risk_sessions,
                m.covered_sessions,
            )
            for m in SessionMonthTotal.objects.all()
            if m.sessions or m.points or any(m.sessions_by_points)
        },
        {
            (m.month, m.location_id, m.status): m.appointments
            for m in AppointmentMonthTotal.objects.all()
            if m.appointments
        },
        {(m.month, m.muscle_id): (m.points, m.twitches) for m in MuscleMonthTotal.objects.all() if m.points},
    )


def month_totals_added_up():
    """The day totals (checked against the sessions and appointments themselves above) added up per
    month in Python; the muscles' per-day totals straight from the needle points."""
    from treatments.models import NeedlePoint

    sessions, appointments, muscles = {}, {}, {}
    for (day, location_id), row in totals_added_up()[0].items():
        total = sessions.setdefault((day.replace(day=1), location_id), [0, [0] * 11, 0, 0, 0, 0, 0, 0, 0, 0])
        for n, value in enumerate(row):
            total[n] = [a + b for a, b in zip(total[1], value, strict=True)] if n == 1 else total[n] + value
    for (day, location_id, status), count in appointments_added_up()[1].items():
        key = (day.replace(day=1), location_id, status)
        appointments[key] = appointments.get(key, 0) + count
    for point in NeedlePoint.objects.filter(removal__isnull=True).select_related("session"):
        key = (point.session.started_at.astimezone(VANCOUVER).date().replace(day=1), point.muscle_id)
        points, twitches = muscles.get(key, (0, 0))
        muscles[key] = (points + 1, twitches + (point.twitch_response != "none"))
    return {key: tuple(row) for key, row in sessions.items()}, appointments, muscles


def monday(day):
    return day - timedelta(days=day.weekday())


def week_totals():
    """The two per-week totals of reports 0014, each without its emptied groups."""
    return (
        {(w.week, w.location_id): w.sessions for w in SessionWeekTotal.objects.all() if w.sessions},
        {
            (w.week, w.location_id, w.status): w.appointments
            for w in AppointmentWeekTotal.objects.all()
            if w.appointments
        },
    )


def week_totals_added_up():
    """The day totals (checked against the sessions and appointments themselves above) added up per week
    from Monday in Python."""
    sessions, appointments = {}, {}
    for (day, location_id), row in totals_added_up()[0].items():
        key = (monday(day), location_id)
        sessions[key] = sessions.get(key, 0) + row[0]
    for (day, location_id, status), count in appointments_added_up()[1].items():
        key = (monday(day), location_id, status)
        appointments[key] = appointments.get(key, 0) + count
    return {key: n for key, n in sessions.items() if n}, appointments


def test_the_rollups_kept_by_the_triggers_add_up_the_summaries_also_after_a_rebuild(busy_days):
    assert rollup() == summaries_added_up()
    assert (totals(), months()) == totals_added_up()
    assert appointment_rollups() == appointments_added_up()
    assert month_totals() == month_totals_added_up()
    assert week_totals() == week_totals_added_up()
    assert len(week_totals()[0]) > 1 and len(week_totals()[1]) > 1  # the busy days span two weeks
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")
    assert rollup() == summaries_added_up()
    assert (totals(), months()) == totals_added_up()
    assert appointment_rollups() == appointments_added_up()
    assert month_totals() == month_totals_added_up()
    assert week_totals() == week_totals_added_up()
    # The rebuild empties the totals before counting them again: rows it had not made are gone.
    AppointmentDayTotal.objects.create(day=FIRST_DAY, location_id=0, status="booked", appointments=5)
    AppointmentMonth.objects.create(
        month=FIRST_DAY.replace(day=1), therapist_id=0, location_id=0, status="booked", appointments=5
    )
    AppointmentMonthTotal.objects.create(
        month=FIRST_DAY.replace(day=1), location_id=0, status="no_show", appointments=7
    )
    AppointmentWeekTotal.objects.create(
        week=monday(FIRST_DAY), location_id=0, status="no_show", appointments=3
    )
    SessionWeekTotal.objects.create(week=monday(FIRST_DAY), location_id=0, sessions=4)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")
    assert appointment_rollups() == appointments_added_up()
    assert month_totals() == month_totals_added_up()
    assert week_totals() == week_totals_added_up()


def test_a_day_total_changed_or_deleted_changes_its_week_by_the_difference(busy_days):
    """The week totals follow every change of a day total's row (reports 0014's row triggers), deletion
    too, whatever made it."""
    before = week_totals()
    total = SessionDayTotal.objects.filter(sessions__gt=0).order_by("day", "pk").first()
    key = (monday(total.day), total.location_id)
    SessionDayTotal.objects.filter(pk=total.pk).update(sessions=total.sessions + 2)
    assert week_totals()[0][key] == before[0][key] + 2
    SessionDayTotal.objects.filter(pk=total.pk).delete()
    assert (
        SessionWeekTotal.objects.get(week=key[0], location_id=key[1]).sessions
        == before[0][key] - total.sessions
    )
    day = AppointmentDayTotal.objects.filter(appointments__gt=0).order_by("day", "pk").last()
    key = (monday(day.day), day.location_id, day.status)
    AppointmentDayTotal.objects.filter(pk=day.pk).update(appointments=day.appointments + 5)
    assert week_totals()[1][key] == before[1][key] + 5
    AppointmentDayTotal.objects.filter(pk=day.pk).delete()
    kept = AppointmentWeekTotal.objects.get(week=key[0], location_id=key[1], status=key[2])
    assert kept.appointments == before[1][key] - day.appointments
    # Every other week is as it was.
    after = week_totals()
    assert {k: v for k, v in after[1].items() if k != key} == {k: v for k, v in before[1].items() if k != key}


@pytest.mark.parametrize(
    ("start", "end", "first", "after"),
    [
        ((2026, 3, 2), (2026, 3, 29), (2026, 3, 2), (2026, 3, 30)),  # Monday to Sunday: all whole
        ((2026, 3, 4), (2026, 4, 30), (2026, 3, 9), (2026, 4, 27)),  # edges at both ends
        ((2026, 3, 8), (2026, 3, 16), (2026, 3, 9), (2026, 3, 16)),  # a Sunday, a week, a Monday
        ((2026, 3, 10), (2026, 3, 14), (2026, 3, 15), (2026, 3, 15)),  # inside one week: no whole week
        ((2026, 3, 9), (2026, 3, 14), (2026, 3, 15), (2026, 3, 15)),  # Monday to Saturday: none either
    ],
)
def test_a_range_shown_by_week_reads_its_whole_weeks_and_the_days_at_either_end(start, end, first, after):
    assert services.whole_weeks(ReportFilter(date(*start), date(*end))) == (date(*first), date(*after))


def test_a_day_total_changed_or_deleted_changes_its_month_by_the_difference(busy_days):
    """The month totals follow every change of a day total's row (reports 0013's row triggers), deletion
    too, whatever made it."""
    before = month_totals()
    month = FIRST_DAY.replace(day=1)
    day = MuscleDayTotal.objects.filter(day__gte=month).order_by("day", "muscle_id").first()
    MuscleDayTotal.objects.filter(pk=day.pk).update(points=day.points + 3, twitches=day.twitches + 1)
    changed = month_totals()[2][(day.day.replace(day=1), day.muscle_id)]
    assert changed == (
        before[2][(day.day.replace(day=1), day.muscle_id)][0] + 3,
        before[2][(day.day.replace(day=1), day.muscle_id)][1] + 1,
    )
    MuscleDayTotal.objects.filter(pk=day.pk).delete()
    after = MuscleMonthTotal.objects.get(month=day.day.replace(day=1), muscle_id=day.muscle_id)
    assert (after.points, after.twitches) == (changed[0] - day.points - 3, changed[1] - day.twitches - 1)
    total = SessionDayTotal.objects.filter(sessions__gt=0).first()
    SessionDayTotal.objects.filter(pk=total.pk).delete()
    kept = SessionMonthTotal.objects.get(month=total.day.replace(day=1), location_id=total.location_id)
    old = before[0][(total.day.replace(day=1), total.location_id)]
    assert kept.sessions == old[0] - total.sessions
    assert kept.sessions_by_points == [a - b for a, b in zip(old[1], total.sessions_by_points, strict=True)]


def test_a_draft_moved_to_another_day_moves_in_the_rollup(busy_days):
    from treatments.models import NeedlingSession

    session = NeedlingSession.objects.filter(signed_at__isnull=True, appointment__isnull=False).first()
    old_day = session.started_at.astimezone(VANCOUVER).date()
    new_start = local(FIRST_DAY + timedelta(days=20), time(23, 30))
    NeedlingSession.objects.filter(pk=session.pk).update(started_at=new_start)
    assert SessionDay.objects.get(day=new_start.date(), clinician_id=session.clinician_id).sessions == 1
    assert (
        SessionDayTotal.objects.get(
            day=new_start.date(), location_id=session.appointment.location_id
        ).sessions
        == 1
    )
    assert (totals(), months()) == totals_added_up()
    therapist = session.clinician
    assert services.needling(ReportFilter(new_start.date(), new_start.date(), therapist)).sessions == 1
    old = ReportFilter(old_day, old_day, therapist)
    assert services.needling(old).sessions == straight(old)["sessions"]


def test_the_dashboard_queries_do_not_grow_with_the_range(
    busy_days, client_for, django_assert_max_num_queries
):
    from accounts.models import Role

    therapists, locations = busy_days
    client = client_for(Role.MANAGER)
    # The filter's options are kept once read (reports.filters.ListedChoiceField): read them first, so
    # both ranges are measured alike, each select costing one query (its digest).
    assert client.get("/reports/").status_code == 200
    for chosen in [{}, {"therapist": therapists[0].pk}, {"location": locations[1].pk}]:
        counts = []
        for start, end in [(FIRST_DAY, FIRST_DAY), (date(2024, 1, 15), date(2026, 12, 31))]:
            with django_assert_max_num_queries(20) as captured:
                query = {"start": start.isoformat(), "end": end.isoformat(), **chosen}
                response = client.get("/reports/", query)
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
            # No query of the page reads the session summaries one by one: only their rollups; and without
            # a therapist, the sessions' figures read the all-clinic day totals, not the clinician-days
            # (the per-therapist table reads those only for the days at the ends of the range).
            sql = [q["sql"] for q in captured.captured_queries]
            assert not [q for q in sql if "reports_sessionsummary" in q]
            if "therapist" not in chosen:
                assert not [
                    q for q in sql if "FROM reports_sessionday s" in q or "FROM reports_sessionday a" in q
                ]
                assert [q for q in sql if "FROM reports_sessiondaytotal" in q]
                # The appointments likewise: their all-clinic day totals, not the therapist-days.
                assert not [q for q in sql if "FROM reports_appointmentday a" in q]
                assert [q for q in sql if "FROM reports_appointmentdaytotal" in q]
                if end.year > start.year:  # whole months: their totals (reports 0013)
                    for month_total in ("sessionmonthtotal", "appointmentmonthtotal"):
                        assert [q for q in sql if f"FROM reports_{month_total} m" in q], month_total
                    if "location" not in chosen:
                        assert [q for q in sql if "FROM reports_musclemonthtotal m" in q]
        assert counts[0] == counts[1], chosen


@pytest.mark.parametrize(
    ("start", "end", "months", "added", "taken"),
    [
        # 27 of February's 28 days: the month, less 1 February.
        ((2026, 2, 2), (2026, 2, 28), [(2026, 2, 1)], [], [((2026, 2, 1), (2026, 2, 1))]),
        # 14 of 28: the days themselves (no more rows than the other way).
        ((2026, 2, 15), (2026, 2, 28), [], [((2026, 2, 15), (2026, 2, 28))], []),
        # March less its first day, April and May whole.
        (
            (2026, 3, 2),
            (2026, 5, 31),
            [(2026, 3, 1), (2026, 4, 1), (2026, 5, 1)],
            [],
            [((2026, 3, 1), (2026, 3, 1))],
        ),
        # Both ends of one month out.
        (
            (2026, 3, 2),
            (2026, 3, 30),
            [(2026, 3, 1)],
            [],
            [((2026, 3, 1), (2026, 3, 1)), ((2026, 3, 31), (2026, 3, 31))],
        ),
    ],
)
def test_a_month_mostly_covered_is_read_whole_less_the_days_left_out(start, end, months, added, taken):
    where = services.months_plus_and_minus(ReportFilter(date(*start), date(*end)), "clinician_id")
    m_params, e_params, x_params = where[1], where[3], where[5]
    expected_months = [date(*m) for m in months]
    assert m_params == ([expected_months[0], expected_months[-1]] if expected_months else [])
    assert list(zip(e_params[::2], e_params[1::2], strict=True)) == [(date(*a), date(*b)) for a, b in added]
    assert list(zip(x_params[::2], x_params[1::2], strict=True)) == [(date(*a), date(*b)) for a, b in taken]
