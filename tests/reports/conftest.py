from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from reports.filters import ReportFilter
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    give_consent,
    muscle,
    needle,
)


@dataclass
class Clinic:
    """A week of a small clinic, starting tomorrow (consent given now covers what follows)."""

    report_filter: ReportFilter
    anna: object
    ben: object
    main: object
    east: object
    sessions: dict


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def add_session(patient, clinician, started_at, points, pain=(None, None), effects=(), legacy=False):
    """A session with its points recorded five minutes in, each referring to the consents that allowed it.
    legacy=True loads the points as a legacy import made with the entry rule's trigger off would (only
    the table's owner can): points without a matching consent, which the consent-coverage alarm exists to
    catch. The report summaries' triggers run either way."""
    from django.db import connection

    from consent.models import Region
    from consent.selectors import consents_allowing
    from treatments.models import NeedlePoint, NeedlingSession, SideEffect

    session = NeedlingSession.objects.create(
        patient=patient, clinician=clinician, started_at=started_at, pain_before=pain[0], pain_after=pain[1]
    )
    recorded_at = started_at + timedelta(minutes=5)
    rows = []
    for order, (name, twitch) in enumerate(points, start=1):
        row = NeedlePoint(
            session=session,
            order=order,
            muscle=muscle(name),
            side="L",
            needle_size=needle("0.25", 40),
            depth_mm=15,
            twitch_response=twitch,
            recorded_at=recorded_at,
        )
        if not legacy:
            region = row.muscle.risk_region
            allowing = consents_allowing(
                patient, Region.GENERAL if region == "none" else region, at=recorded_at
            )
            row.consent_id, row.region_consent_id = allowing.general_id, allowing.region_id
        rows.append(row)
    if legacy:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE treatments_needlepoint DISABLE TRIGGER treatments_point_allowed_on_insert"
            )
            NeedlePoint.objects.bulk_create(rows)
            cursor.execute(
                "ALTER TABLE treatments_needlepoint ENABLE TRIGGER treatments_point_allowed_on_insert"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        NeedlePoint.objects.bulk_create(rows)
    for kind, severity in effects:
        SideEffect.objects.create(session=session, type=kind, severity=severity)
    return session


def add_psfs(patient, clinician, scored_at, activities, session=None):
    """A PSFS scoring saved directly (the reports read it; treatments.outcomes.record_psfs is tested in
    tests/treatments/test_psfs.py)."""
    from treatments.models import OutcomeItem, OutcomeMeasure
    from treatments.outcomes import psfs_score

    measure = OutcomeMeasure.objects.create(
        patient=patient,
        session=session,
        scored_at=scored_at,
        recorded_by=clinician,
        score=psfs_score([score for _name, score in activities]),
    )
    for order, (name, score) in enumerate(activities, start=1):
        OutcomeItem.objects.create(measure=measure, order=order, activity=name, score=score)
    return measure


@pytest.fixture
def clinic(db):
    from consent.models import Region

    first = timezone.localdate() + timedelta(days=1)
    anna, ben = PhysioFactory(full_name="Anna Physio"), PhysioFactory(full_name="Ben Physio")
    main, east = LocationFactory(name="Main clinic"), LocationFactory(name="East clinic")
    consented, unconsented, declined = PatientFactory(), PatientFactory(), PatientFactory()
    treated_by_ben = PatientFactory()
    give_consent(consented)
    give_consent(treated_by_ben)
    give_consent(declined, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,))

    def book(therapist, day, hour, status, location=main, patient=None):
        return AppointmentFactory(
            therapist=therapist,
            patient=patient or PatientFactory(),
            location=location,
            start=at(first + timedelta(days=day), hour),
            status=status,
            cancel_reason="Patient unwell" if status == "cancelled" else "",
        )

    book(anna, 0, 9, "completed")
    book(anna, 0, 10, "completed")
    book(anna, 1, 9, "no_show")
    book(anna, 2, 9, "cancelled")
    book(ben, 0, 9, "completed", location=east)
    book(ben, 1, 9, "booked", location=east)
    book(anna, -10, 9, "no_show")  # outside the range

    sessions = {
        "covered": add_session(
            consented,
            anna,
            at(first, 9),
            [("Upper trapezius", "single"), ("Infraspinatus", "none")],
            pain=(6, 3),
            effects=[("bruising", "mild"), ("bleeding", "mild")],
        ),
        "no_consent": add_session(
            unconsented, anna, at(first, 10), [("Rhomboid major", "multiple")], pain=(5, 5), legacy=True
        ),
        "declined_mid_back": add_session(
            declined,
            anna,
            at(first + timedelta(days=1), 11),
            [("Upper trapezius", "none"), ("Middle trapezius", "single")],
            legacy=True,
        ),
        "ben": add_session(
            treated_by_ben,
            ben,
            at(first, 9),
            [("Gluteus medius", "none")] * 3,
            pain=(7, 2),
            effects=[("bruising", "mild"), ("pneumothorax", "serious")],
        ),
        "outside": add_session(
            consented, ben, at(first + timedelta(days=8), 9), [("Gluteus medius", "single")], pain=(9, 0)
        ),
    }
    # The Patient-Specific Functional Scale: at Anna's session, between sessions by Ben, and out of range.
    add_psfs(consented, anna, at(first, 9), [("Reaching overhead", 3), ("Sleeping on the right side", 4)],
             session=sessions["covered"])  # fmt: skip
    add_psfs(
        treated_by_ben, ben, at(first + timedelta(days=2), 15), [("Running", 2), ("Stairs", 6), ("Golf", 5)]
    )
    add_psfs(consented, anna, at(first + timedelta(days=8), 9), [("Reaching overhead", 7)])
    return Clinic(
        report_filter=ReportFilter(first, first + timedelta(days=6)),
        anna=anna,
        ben=ben,
        main=main,
        east=east,
        sessions=sessions,
    )
