"""A region's consent state has one label and one colour (consent/states.py), the same on every page that
shows it: the chart panel, My day, the session screen and the patient lists (issue 13 item 2)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.chart import consent_badges
from consent.models import Region
from consent.selectors import consent_status
from consent.services.obtaining import withdraw_consent
from consent.states import ALLOWED_COLOUR, STATE_COLOURS, RegionState, state_badge
from tests.factories import (
    AppointmentFactory,
    ConsentFormFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    give_consent,
)

pytestmark = pytest.mark.django_db

# A badge's colour and the state it shows, as both consent templates write them.
BADGE = re.compile(r'class="badge[^"]*\btext-bg-(\w+)[^"]*"[^>]*\bdata-state="(\w+)"')


def badges_on(page):
    return set(BADGE.findall(page))


def test_each_state_has_its_label_and_colour():
    day = timezone.now()
    consent = type("Consent", (), {"signed_at": day, "withdrawn_at": day})()
    shown = f"{timezone.localtime(day):%Y-%m-%d}"
    assert state_badge(RegionState.ACCEPTED, record=consent) == (f"Accepted {shown}", "success")
    assert state_badge(RegionState.ACCEPTED, record=consent, general_allowed=False) == (
        f"Accepted {shown}, but not the general risks",
        "secondary",
    )
    assert state_badge(RegionState.DECLINED, record=consent) == (f"Declined {shown}", "danger")
    assert state_badge(RegionState.WITHDRAWN, record=consent) == (f"Withdrawn {shown}", "danger")
    reconsent = state_badge(RegionState.RECONSENT, reconsent_version="3")
    assert reconsent == ("Re-consent needed (version 3)", "warning")
    assert state_badge(RegionState.NONE) == ("No consent", "secondary")


def test_every_status_carries_the_colour_of_its_state():
    patient, other = PatientFactory(), PatientFactory()
    ConsentFormFactory()
    give_consent(patient, accepted=(Region.NECK,))  # general declined: the neck is accepted, but not allowed
    withdraw_consent(give_consent(other), by=PhysioFactory(), reason="Changed her mind")
    statuses = consent_status([patient, other])
    neck = statuses[patient.pk][Region.NECK]
    assert (neck.state, neck.allowed, neck.colour) == (RegionState.ACCEPTED, False, "secondary")
    assert statuses[patient.pk][Region.GENERAL].colour == STATE_COLOURS[RegionState.DECLINED] == "danger"
    assert statuses[other.pk][Region.GENERAL].colour == STATE_COLOURS[RegionState.WITHDRAWN] == "danger"


def test_patient_lists_use_the_same_colours():
    ConsentFormFactory()
    on_file, none = PatientFactory(), PatientFactory()
    give_consent(on_file)
    badges = consent_badges([on_file, none])
    assert badges[on_file.pk][0]["level"] == ALLOWED_COLOUR
    assert badges[none.pk][0] == {"label": "No consent on file", "level": STATE_COLOURS[RegionState.NONE]}


def test_the_chart_my_day_and_the_session_screen_colour_a_state_alike(client):
    physio = PhysioFactory()
    patient = PatientFactory()
    ConsentFormFactory()
    give_consent(patient, accepted=(Region.NECK,))  # the general risks and the mid back declined
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    AppointmentFactory(therapist=physio, patient=patient, start=start, status="arrived")
    session = NeedlingSessionFactory(patient=patient, clinician=physio)
    client.force_login(physio)
    expected = {("danger", "declined"), ("secondary", "accepted")}  # accepted without the general risks
    for url in [
        reverse("patients:chart", args=[patient.pk]),
        reverse("treatments:my_day"),
        reverse("treatments:session", args=[session.pk]),
    ]:
        page = client.get(url).content.decode()
        assert badges_on(page) == expected, url
