"""Consent status as a page shows it (issue 17): plain values read in one query (no model objects per
decision), asked once per request however many parts of the page show it (the chart's badges and
consent panel; My day's badges and consent column; the session screen), and a page's count of queries
does not grow with its patients, sessions or points."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, Region
from consent.selectors import (
    ConsentOnFile,
    consent_status,
    consent_status_on_page,
    statuses_kept_for_request,
)
from tests.factories import (
    AppointmentFactory,
    NeedlingSessionFactory,
    PatientFactory,
    ScreeningFactory,
    give_consent,
    muscle,
    needle,
)
from treatments.services import add_points

pytestmark = pytest.mark.django_db


def status_queries(queries):
    """The queries that read consent decisions (consent_status' one statement, CONSENT_STATUS_SQL)."""
    return [q for q in queries.captured_queries if "FROM consent_riskdecision" in q["sql"]]


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return queries


def test_a_status_is_plain_values_naming_the_consent_that_decided_it(patient):
    record = give_consent(patient, accepted=(Region.GENERAL,), declined=(Region.NECK,))
    neck = consent_status([patient])[patient.pk][Region.NECK]
    assert neck.record == ConsentOnFile(record.pk, record.signed_at, None, record.form.version)
    assert not isinstance(neck.record, ConsentRecord)


def test_a_request_asks_once_per_patient_and_outside_one_every_call_asks(patient, django_assert_num_queries):
    give_consent(patient)
    other = PatientFactory()
    with statuses_kept_for_request(), django_assert_num_queries(2):
        first = consent_status_on_page([patient])
        again = consent_status_on_page([patient.pk, other])  # only the other patient is asked about
    assert first[patient.pk] == again[patient.pk] and first[patient.pk][Region.NECK].allowed
    assert not again[other.pk][Region.GENERAL].allowed
    with django_assert_num_queries(2):
        consent_status_on_page([patient])
        consent_status_on_page([patient])


def test_a_consent_obtained_or_withdrawn_during_a_request_is_shown_as_it_now_is(patient, clinician):
    from consent.services.obtaining import withdraw_consent

    with statuses_kept_for_request():
        assert not consent_status_on_page([patient])[patient.pk][Region.GENERAL].allowed
        record = give_consent(patient)
        assert consent_status_on_page([patient])[patient.pk][Region.GENERAL].allowed
        withdraw_consent(record, by=clinician, reason="Changed her mind")
        assert not consent_status_on_page([patient])[patient.pk][Region.GENERAL].allowed


def test_the_chart_asks_for_consent_once_whatever_its_history(client, clinician, patient):
    give_consent(patient)
    NeedlingSessionFactory(patient=patient, clinician=clinician)
    client.force_login(clinician)
    url = reverse("patients:chart", args=[patient.pk])
    get(client, url)  # warm: the user's first page
    few = get(client, url)
    assert len(status_queries(few)) == 1  # the badges and the consent panel share it
    for _ in range(5):
        give_consent(patient)
    NeedlingSessionFactory.create_batch(10, patient=patient, clinician=clinician)
    many = get(client, url)
    assert len(status_queries(many)) == 1
    assert len(many.captured_queries) == len(few.captured_queries)


@time_machine.travel(timezone.make_aware(datetime(2026, 6, 10, 6, 0)), tick=False)
def test_my_day_asks_for_consent_once_whatever_the_number_of_appointments(client, clinician):
    client.force_login(clinician)
    url = reverse("treatments:my_day")
    start = timezone.make_aware(datetime(2026, 6, 10, 8, 0))

    def book(count, offset):
        for index in range(count):
            patient = PatientFactory()
            ScreeningFactory(patient=patient)
            give_consent(patient)
            AppointmentFactory(
                patient=patient, therapist=clinician, start=start + timedelta(minutes=30 * (offset + index))
            )

    book(1, 0)
    get(client, url)
    few = get(client, url)
    assert len(status_queries(few)) == 1  # the badges and the consent column share it
    book(15, 1)
    many = get(client, url)
    assert len(status_queries(many)) == 1
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_session_screen_asks_for_consent_once_whatever_the_number_of_points(client, draft, clinician):
    give_consent(draft.patient)
    client.force_login(clinician)
    url = reverse("treatments:session", args=[draft.pk])
    point = {"muscle": muscle("Soleus"), "side": "L", "needle_size": needle("0.30", 50), "depth_mm": 20}
    add_points(draft, [point], by=clinician)
    get(client, url)
    few = get(client, url)
    assert len(status_queries(few)) == 1
    add_points(draft, [point] * 30, by=clinician)
    many = get(client, url)
    assert len(status_queries(many)) == 1
    assert len(many.captured_queries) == len(few.captured_queries)


def test_adding_a_point_on_the_session_screen_costs_the_same_whatever_the_number_of_points(
    client, draft, clinician
):
    """The htmx row: add_points, then the points section re-rendered."""
    client.force_login(clinician)
    url = reverse("treatments:point_add", args=[draft.pk])
    form = {
        "muscle": muscle("Gluteus medius").pk,
        "side": "R",
        "needle_size": needle("0.30", 60).pk,
        "depth_mm": "40",
        "insertions": "2",
        "technique": "pistoning",
        "twitch_response": "single",
        "patient_response": "familiar",
    }

    def post():
        with CaptureQueriesContext(connection) as queries:
            assert client.post(url, form, HTTP_HX_REQUEST="true").status_code == 200
        return queries

    post()
    few = post()
    point = {"muscle": muscle("Soleus"), "side": "L", "needle_size": needle("0.30", 50), "depth_mm": 20}
    add_points(draft, [point] * 30, by=clinician)
    many = post()
    assert draft.points.count() == 33
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(status_queries(many)) <= 1
