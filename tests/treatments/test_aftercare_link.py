"""The patient's link to the aftercare handout: public (no login), signed, expiring, for one signed session
and one purpose only; anything else answers the same plain "expired" page, never a 500."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import Action, AuditEvent
from clinic.patient_links import LinkExpired, LinkRefused, make_token, read_token
from tests.factories import complete_session, muscle, needle
from treatments.aftercare import LINK_PURPOSE, link_path
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(consented_draft, clinician):
    add_point(
        consented_draft, by=clinician, muscle=muscle("Rhomboid major"), side="L",
        needle_size=needle("0.30", 60), depth_mm=10, twitch_response="single",
    )  # fmt: skip
    return sign_session(complete_session(consented_draft), by=clinician)


def assert_refused(response):
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "This link has expired" in page and "Please call the clinic" in page


def test_the_link_opens_the_handout_without_logging_in(client, signed):
    response = client.get(link_path(signed))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Your aftercare" in text
    event = AuditEvent.objects.get(action=Action.VIEW, object_id=str(signed.pk))
    assert event.patient_id == signed.patient_id and event.actor is None
    assert event.detail == "aftercare handout opened from the patient's link"


def test_the_link_is_under_p_and_names_the_purpose(signed):
    assert link_path(signed).startswith("/p/aftercare/")


@pytest.mark.clock
def test_the_link_expires_after_patient_link_days(client, signed, settings):
    settings.PATIENT_LINK_DAYS = 14
    made = timezone.now()
    with time_machine.travel(made, tick=False):
        path = link_path(signed)
    with time_machine.travel(made + timedelta(days=14) - timedelta(minutes=1), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(made + timedelta(days=14, minutes=1), tick=False):
        assert_refused(client.get(path))
        with pytest.raises(LinkExpired):
            read_token(LINK_PURPOSE, path.split("/")[3])


def test_a_tampered_link_is_refused(client, signed):
    token = make_token(LINK_PURPOSE, signed.pk)
    other_id = token.replace(f"{signed.pk}:", f"{signed.pk + 1}:", 1)
    for bad in [token[:-2], token + "x", other_id, "sample", "1", "%00", "x" * 500]:
        assert_refused(client.get(reverse("aftercare:handout", args=[bad])))
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()


def test_a_token_for_another_purpose_is_refused(client, signed):
    token = make_token("follow-up", signed.pk)
    assert_refused(client.get(reverse("aftercare:handout", args=[token])))
    with pytest.raises(LinkRefused):
        read_token(LINK_PURPOSE, token)
    assert read_token("follow-up", token) == signed.pk


def test_a_draft_or_missing_session_answers_the_same_page(client, draft):
    assert_refused(client.get(reverse("aftercare:handout", args=[make_token(LINK_PURPOSE, draft.pk)])))
    assert_refused(client.get(reverse("aftercare:handout", args=[make_token(LINK_PURPOSE, 987654)])))


def test_a_signed_in_staff_member_gets_the_same_handout(client, signed, front_desk):
    client.force_login(front_desk)
    assert client.get(link_path(signed)).status_code == 200


def test_the_expired_page_gives_the_clinic_phone(client, settings):
    settings.CLINIC_PHONE = "604-555-0134"
    response = client.get(reverse("aftercare:handout", args=["sample"]))
    assert_refused(response)
    assert "604-555-0134" in response.content.decode()


def test_the_link_queries_a_fixed_number_of_times(
    client, consented_draft, clinician, django_assert_max_num_queries
):
    for number in range(12):
        add_point(
            consented_draft, by=clinician, muscle=muscle("Gluteus medius"), side="LR"[number % 2],
            needle_size=needle("0.30", 60), depth_mm=30, twitch_response="single",
        )  # fmt: skip
    signed = sign_session(complete_session(consented_draft), by=clinician)
    with django_assert_max_num_queries(8):
        assert client.get(link_path(signed)).status_code == 200
