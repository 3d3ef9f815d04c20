"""The dashboard's figures against a small clinic whose answers are counted by hand (conftest.py)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from reports import services
from tests.factories import PatientFactory, give_consent, muscle, needle
from tests.reports.conftest import add_session, at


def add_point(session, name):
    from consent.models import Region
    from consent.selectors import consents_allowing
    from treatments.models import NeedlePoint

    # Bulk, as an import would, recorded five minutes into the session and referring to the consents
    # that allowed it then (the database refuses any other; see conftest.add_session).
    recorded_at = session.started_at + timedelta(minutes=5)
    region = muscle(name).risk_region
    allowing = consents_allowing(
        session.patient, Region.GENERAL if region == "none" else region, at=recorded_at
    )
    (point,) = NeedlePoint.objects.bulk_create(
        [
            NeedlePoint(
                session=session,
                order=session.points.count() + 1,
                muscle=muscle(name),
                side="R",
                needle_size=needle("0.25", 40),
                depth_mm=12,
                recorded_at=recorded_at,
                consent_id=allowing.general_id,
                region_consent_id=allowing.region_id,
            )
        ]
    )
    return point


def test_appointments_and_their_outcomes_are_counted(clinic):
    activity = services.activity(clinic.report_filter)
    assert (activity.appointments, activity.cancelled, activity.no_show, activity.attended) == (6, 1, 1, 3)
    assert activity.no_show_rate.proportion == pytest.approx(1 / 6)
    assert activity.unit == "day"
    assert len(activity.periods) == 7
    assert sum(activity.appointments_per_period.values()) == 5  # cancelled ones left out of the line
    assert sum(activity.sessions_per_period.values()) == 4


def test_per_therapist_rows_hold_appointments_and_sessions(clinic):
    rows = services.activity(clinic.report_filter).per_therapist
    assert rows == [("Anna Physio", 3, 3), ("Ben Physio", 2, 1)]


def test_a_therapist_filter_keeps_only_their_work(clinic):
    activity = services.activity(replace(clinic.report_filter, therapist=clinic.ben))
    assert (activity.appointments, activity.no_show) == (2, 0)
    assert services.needling(replace(clinic.report_filter, therapist=clinic.ben)).points == 3


def test_a_location_filter_keeps_only_its_appointments(clinic):
    activity = services.activity(replace(clinic.report_filter, location=clinic.east))
    assert activity.appointments == 2


def test_points_muscles_twitches_and_pain(clinic):
    figures = services.needling(clinic.report_filter)
    assert (figures.sessions, figures.points, figures.twitches) == (4, 8, 3)
    assert figures.points_per_session == 2
    assert dict(figures.points_histogram)["1"] == 1
    assert dict(figures.points_histogram)["2"] == 2
    assert dict(figures.points_histogram)["3"] == 1
    assert figures.muscles[0] == ("Gluteus medius", 3)
    assert ("Upper trapezius", 2) in figures.muscles
    assert dict(figures.regions)["Mid back (thoracic)"] == 2
    # Pain: three sessions with both scores: (6+5+7)/3 before, (3+5+2)/3 after; two improved.
    assert figures.pain_sessions == 3
    assert figures.pain_before == pytest.approx(6)
    assert figures.pain_after == pytest.approx(10 / 3)
    assert figures.improved == 2


def test_consent_coverage_counts_sessions_with_risk_points(clinic):
    coverage = services.consent_coverage(clinic.report_filter)
    assert (coverage.risk_sessions, coverage.covered) == (3, 1)
    assert coverage.alarm
    assert coverage.uncovered == []  # not asked for: the manager sees the figure only


def test_consent_coverage_counted_with_the_needling_figures_reads_nothing_more(
    clinic, django_assert_num_queries
):
    needling = services.needling(clinic.report_filter)
    with django_assert_num_queries(0):
        coverage = services.consent_coverage(clinic.report_filter, counted=needling)
    assert (coverage.risk_sessions, coverage.covered, coverage.uncovered) == (3, 1, [])
    # A list of the sessions (clinical roles) is still read.
    listed = services.consent_coverage(clinic.report_filter, list_sessions=True, counted=needling)
    assert (listed.risk_sessions, listed.covered) == (3, 1) and listed.uncovered


def test_uncovered_sessions_are_listed_with_the_regions_at_fault(clinic):
    coverage = services.consent_coverage(clinic.report_filter, list_sessions=True)
    listed = {row["session_id"]: row["regions"] for row in coverage.uncovered}
    assert listed == {
        clinic.sessions["no_consent"].pk: "Mid back",
        clinic.sessions["declined_mid_back"].pk: "Mid back",
    }


def test_full_coverage_raises_no_alarm(clinic):
    coverage = services.consent_coverage(replace(clinic.report_filter, therapist=clinic.ben))
    assert (coverage.risk_sessions, coverage.alarm) == (0, False)


def test_a_withdrawn_consent_does_not_cover_sessions_recorded_after_it(clinic):
    from consent.services.obtaining import withdraw_consent

    patient = clinic.sessions["covered"].patient
    withdraw_consent(patient.consents.get(), by=clinic.anna, reason="Changed their mind")
    # Only a load with the entry rules off can record a point after the withdrawal now.
    later = add_session(
        patient, clinic.anna, at(clinic.report_filter.start, 15), [("Upper trapezius", "none")], legacy=True
    )
    coverage = services.consent_coverage(clinic.report_filter, list_sessions=True)
    # The session recorded while consent held stays covered; the one recorded after the withdrawal is not.
    assert (coverage.risk_sessions, coverage.covered) == (4, 1)
    assert later.pk in {row["session_id"] for row in coverage.uncovered}


def test_consent_given_during_a_session_covers_the_points_recorded_after_it(clinic):
    from consent.models import Region

    patient = PatientFactory()
    session = add_session(patient, clinic.anna, at(clinic.report_filter.start, 16), [])
    give_consent(patient, accepted=(Region.GENERAL, Region.NECK))
    add_point(session, "Upper trapezius")
    coverage = services.consent_coverage(clinic.report_filter, list_sessions=True)
    assert session.pk not in {row["session_id"] for row in coverage.uncovered}
    assert coverage.covered == 2


def test_side_effect_rates_per_100_sessions_with_intervals(clinic):
    safety = services.safety(clinic.report_filter)
    assert safety.sessions == 4
    by_type = {row.key: row for row in safety.by_type}
    assert by_type["bruising"].sessions_with == 2
    assert by_type["bruising"].rate.per_100()[0] == pytest.approx(50)
    low, high = by_type["bruising"].rate.per_100()[1:]
    assert low < 50 < high
    assert by_type["bruising"].baselines == {"brady2014": 7.55, "boyce2020": 7.7}
    assert by_type["headache"].sessions_with == 0  # published, so shown even at zero
    by_severity = {row.key: row for row in safety.by_severity}
    assert by_severity["any"].sessions_with == 2
    assert by_severity["mild"].sessions_with == 2
    assert by_severity["serious"].sessions_with == 1
    assert by_severity["significant_or_serious"].baselines["boyce2020"] == pytest.approx(100 * 20 / 20464)


def test_significant_and_serious_events_are_listed(clinic):
    events = services.safety(clinic.report_filter).events
    assert [(e["session_id"], e["severity_key"]) for e in events] == [(clinic.sessions["ben"].pk, "serious")]
    assert events[0]["chart_number"] == clinic.sessions["ben"].patient.chart_number


def test_an_empty_range_gives_zeros_not_errors(clinic):
    from datetime import date

    empty = replace(clinic.report_filter, start=date(2001, 1, 1), end=date(2001, 12, 31))
    assert services.activity(empty).appointments == 0
    assert services.activity(empty).unit == "month"
    assert services.needling(empty).points_per_session is None
    assert services.safety(empty).sessions == 0
    assert services.consent_coverage(empty).rate.proportion is None


def test_a_location_filter_keeps_the_sessions_of_its_appointments(clinic):
    from tests.factories import AppointmentFactory
    from treatments.models import NeedlingSession

    appointment = AppointmentFactory(
        location=clinic.east,
        therapist=clinic.ben,
        start=at(clinic.report_filter.start, 15),
        status="completed",
    )
    give_consent(appointment.patient)
    session = NeedlingSession.objects.create(
        patient=appointment.patient,
        clinician=clinic.ben,
        appointment=appointment,
        started_at=appointment.start,
    )
    add_point(session, "Gluteus medius")
    east = replace(clinic.report_filter, location=clinic.east)
    figures = services.needling(east)
    assert (figures.sessions, figures.points) == (1, 1)
    assert services.safety(east).sessions == 1
    assert services.needling(replace(clinic.report_filter, location=clinic.main)).sessions == 0
