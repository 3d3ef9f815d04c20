"""The chart's "Recent activity" (issue 11, part 6): the front desk sees only non-clinical events; the
muscle and side needled, side effects and screenings stay with the clinicians."""

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Action
from audit.services import record
from consent.models import Region
from tests.factories import (
    AppointmentFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    give_consent,
    muscle,
    needle,
)
from tests.markup import page_text
from treatments.services import add_point, add_side_effect

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated_patient(db):
    patient = PatientFactory()
    ScreeningFactory(patient=patient)
    give_consent(patient, accepted=(Region.GENERAL, Region.NECK, Region.MID_BACK))
    clinician = PhysioFactory()
    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    upper_trapezius = {"muscle": muscle("Upper trapezius"), "needle_size": needle("0.25", 30), "depth_mm": 15}
    add_point(session, by=clinician, side="L", **upper_trapezius)
    add_side_effect(session, by=clinician, type="headache", severity="mild")
    booked = AppointmentFactory(patient=patient)
    record(Action.BOOK, obj=booked, patient_id=patient.pk, detail="IMS follow-up booked")
    return patient


def activity(client, patient):
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    start = page.index('data-testid="recent-activity"')
    return page_text(page[start : page.index("</ul>", start)])


def test_the_front_desk_sees_no_needle_point_side_effect_or_screening_in_recent_activity(
    client_for, treated_patient
):
    shown = activity(client_for(Role.FRONT_DESK), treated_patient)
    assert "Upper trapezius" not in shown and "headache" not in shown and "side effect" not in shown
    assert "needlingsession" not in shown and "screening" not in shown
    assert "IMS follow-up booked" in shown and "consent on version" in shown


def test_clinicians_see_the_clinical_events_too(client_for, treated_patient):
    shown = activity(client_for(Role.PHYSIO), treated_patient)
    assert "needle point 1 added (Upper trapezius, L)" in shown and "side effect recorded: headache" in shown
