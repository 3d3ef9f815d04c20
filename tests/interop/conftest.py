from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)

FILES = Path(__file__).parent / "files"


def fixture_bytes(name):
    return (FILES / name).read_bytes()


def upload(client, patients, appointments=None, **fields):
    data = {
        "patients_file": SimpleUploadedFile("patients.csv", patients),
        "encoding": "utf-8",
        "date_order": "auto",
    }
    if appointments is not None:
        data["appointments_file"] = SimpleUploadedFile("appointments.csv", appointments)
    data.update(fields)
    return client.post("/interop/import/", data)


@pytest.fixture
def clinic(db):
    """The staff and types the fixtures' appointments name, and one patient already registered."""
    LocationFactory(name="Main clinic")
    AppointmentTypeFactory(name="IMS follow-up")
    PhysioFactory(full_name="Priya Natarajan", email="priya@clinic.test")
    return PatientFactory(given_name="Wei", family_name="Chen", date_of_birth="1990-06-30")


@pytest.fixture
def admin_client(client_for):
    from accounts.models import Role

    return client_for(Role.ADMIN)


@dataclass
class Record:
    """A patient's record with something of everything the export carries."""

    patient: object
    physio: object
    other_physio: object
    old_consent: object
    consent: object
    appointment: object
    signed: object
    draft: object
    points: list
    side_effects: list


@pytest.fixture
def record(db):
    """Zoë Côté (PHN on file): a first consent, withdrawn; a current one accepting the general and neck risks
    and declining the mid back; a completed appointment with its signed session (two points, one in the
    neck; pain 6 -> 3; bruising, and a suspected pneumothorax), and a draft session by another physio."""
    from consent.models import Region
    from consent.services.obtaining import withdraw_consent
    from treatments.services import add_point, add_side_effect, sign_session

    physio = PhysioFactory(full_name="Priya Natarajan")
    other = PhysioFactory(full_name="Ben Okafor")
    patient = PatientFactory(
        given_name="Zoë",
        family_name="Côté",
        preferred_name="Zo",
        phn="9876543218",
        email="zoe@example.test",
        address="12 Main St\nVancouver, BC V5K 0A1",
        gender="woman",
        sex="female",
        emergency_contact_name="Luc Côté",
        emergency_contact_phone="+16045550199",
        emergency_contact_relationship="brother",
    )
    # Screened before the first point (issue 11: a due screening blocks needling).
    ScreeningFactory(patient=patient, answered_by=physio)
    old = give_consent(patient, by=physio)
    withdraw_consent(old, by=physio, reason="Patient wished to think it over")
    consent = give_consent(
        patient, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,), by=physio
    )
    start = timezone.now() - timedelta(hours=2)
    appointment = AppointmentFactory(patient=patient, therapist=physio, start=start, status="arrived")
    signed = NeedlingSessionFactory(
        patient=patient, clinician=physio, appointment=appointment, started_at=start
    )
    points = [
        add_point(
            signed,
            by=physio,
            muscle=muscle("Upper trapezius"),
            side="R",
            needle_size=needle("0.25", 40),
            depth_mm=12,
            insertions=3,
            twitch_response="multiple",
            patient_response="familiar",
            segment="C4",
            technique="gunn_ims",
        ),
        add_point(
            signed,
            by=physio,
            muscle=muscle("Gluteus medius"),
            side="L",
            needle_size=needle("0.30", 60),
            depth_mm=40,
            insertions=1,
            twitch_response="none",
            notes="Deep ache",
        ),
    ]
    side_effects = [
        add_side_effect(
            signed, by=physio, type="bruising", severity="mild", resolved=True, duration="2 days"
        ),
        add_side_effect(
            signed,
            by=physio,
            type="pneumothorax",
            severity="serious",
            onset="within_24h",
            action_taken="Sent to emergency; chest X-ray",
        ),
    ]
    complete_session(signed, pain_before=6, pain_after=3, needles_in=2, needles_out=2)
    signed = sign_session(signed, by=physio)
    draft = NeedlingSessionFactory(
        patient=patient, clinician=other, started_at=timezone.now() - timedelta(minutes=10)
    )
    points.append(
        add_point(
            draft,
            by=other,
            muscle=muscle("Gluteus medius"),
            side="B",
            needle_size=needle("0.30", 60),
            depth_mm=35,
            twitch_response="single",
        )
    )
    return Record(
        patient=patient,
        physio=physio,
        other_physio=other,
        old_consent=old,
        consent=consent,
        appointment=appointment,
        signed=signed,
        draft=draft,
        points=points,
        side_effects=side_effects,
    )
