"""No needling at all without consent on file: every point needs the general risks of needling accepted
on a current, signed, not withdrawn consent (DOMAIN.md), through every door (service, point form POST, the
database; tests/treatments/test_needle_point_consent.py walks each door for each way consent is missing).
A session may still be started without consent: the assessment comes first."""

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.errors import NeedlingNotAllowed
from consent.models import Region
from consent.services.obtaining import withdraw_consent
from tests.factories import AppointmentFactory, ConsentFormFactory, give_consent, muscle, needle
from treatments.models import NeedlePoint, NeedlingSession
from treatments.services import add_point, start_session, start_session_from_appointment, update_point

pytestmark = pytest.mark.django_db

NO_CONSENT = "No consent for needling is on file for Zoë Côté"


def gluteus_post(**overrides):
    return {
        "muscle": muscle("Gluteus medius").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.30", 60).pk,
        "depth_mm": "40",
        "insertions": "2",
        "technique": "pistoning",
        "twitch_response": "single",
        "patient_response": "familiar",
        "notes": "",
        **overrides,
    }


def test_without_consent_a_general_point_is_refused_by_the_service(
    unconsented_draft, clinician, point_fields
):
    with pytest.raises(NeedlingNotAllowed, match=NO_CONSENT):
        add_point(unconsented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_without_consent_a_direct_model_save_is_refused_by_the_database(unconsented_draft, point_fields):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="no consent allowing needling"), transaction.atomic():
        NeedlePoint.objects.create(session=unconsented_draft, order=1, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_without_consent_the_point_form_post_shows_the_message_and_saves_nothing(client, unconsented_draft):
    client.force_login(unconsented_draft.clinician)
    url = reverse("treatments:point_add", args=[unconsented_draft.pk])
    response = client.post(url, gluteus_post(), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert NO_CONSENT in page and 'data-testid="point-errors"' in page
    response = client.post(url, gluteus_post(), follow=True)  # without htmx too
    assert response.status_code == 200 and NO_CONSENT in response.content.decode()
    assert not NeedlePoint.objects.exists()


def test_a_general_point_is_refused_when_the_general_risks_were_declined(
    unconsented_draft, clinician, point_fields
):
    give_consent(unconsented_draft.patient, accepted=(Region.NECK, Region.MID_BACK))
    today = timezone.localdate().isoformat()
    with pytest.raises(NeedlingNotAllowed, match=f"general risks of needling were declined on {today}"):
        add_point(unconsented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_a_general_point_is_refused_once_the_consent_is_withdrawn(draft, clinician, point_fields):
    consent = draft.patient.consents.get()
    point = add_point(draft, by=clinician, **point_fields)
    withdraw_consent(consent, by=clinician, reason="Does not want needling any more")
    with pytest.raises(NeedlingNotAllowed, match="consent for needling was withdrawn"):
        add_point(draft, by=clinician, **{**point_fields, "side": "L"})
    with pytest.raises(NeedlingNotAllowed, match="withdrawn"):
        update_point(point, by=clinician, depth_mm=30)  # a correction is a point too
    assert draft.points.count() == 1 and draft.points.get().depth_mm == 40


def test_a_neck_point_is_refused_when_the_neck_was_accepted_but_the_general_risks_declined(
    unconsented_draft, clinician, point_fields
):
    give_consent(unconsented_draft.patient, accepted=(Region.NECK,))
    with pytest.raises(NeedlingNotAllowed, match="general risks of needling were declined"):
        add_point(
            unconsented_draft,
            by=clinician,
            **{
                **point_fields,
                "muscle": muscle("Upper trapezius"),
                "needle_size": needle("0.25", 30),
                "depth_mm": 15,
            },
        )
    assert not NeedlePoint.objects.exists()


def test_a_version_requiring_reconsent_stops_every_point(draft, clinician, point_fields):
    newer = ConsentFormFactory(requires_reconsent=True)
    with pytest.raises(NeedlingNotAllowed, match=f"re-consent on form version {newer.version}"):
        add_point(draft, by=clinician, **point_fields)
    give_consent(draft.patient, form=newer)
    assert add_point(draft, by=clinician, **point_fields).pk


def test_a_session_is_started_without_consent_and_the_screen_says_no_point_can_be_added(
    client, clinician, patient
):
    session = start_session(patient=patient, clinician=clinician)
    assert session.pk and not patient.consents.exists()
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert 'data-testid="no-needling-consent"' in page
    assert "No point can be added until consent is on file" in page
    assert reverse("consent:obtain", args=[patient.pk]) in page
    assert "General: No consent" in page
    give_consent(patient)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "No point can be added until consent is on file" not in page


def test_sessions_start_without_consent_from_the_chart_and_from_an_appointment(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(reverse("treatments:start", args=[patient.pk]))
    session = NeedlingSession.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == reverse(
        "treatments:session", args=[session.pk]
    )
    appointment = AppointmentFactory(therapist=clinician, status="arrived")
    started = start_session_from_appointment(appointment, by=clinician)
    assert started.appointment == appointment and not appointment.patient.consents.exists()
    appointment.refresh_from_db()
    assert appointment.status == "in_treatment"


def test_a_signed_session_shows_no_consent_warning(client, draft, clinician, point_fields):
    from tests.factories import complete_session
    from treatments.services import sign_session

    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    sign_session(draft, by=clinician)
    withdraw_consent(draft.patient.consents.get(), by=clinician, reason="Moved away")
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert "General: Withdrawn" in page
    assert 'data-testid="no-needling-consent"' not in page  # the record is signed: nothing to add
