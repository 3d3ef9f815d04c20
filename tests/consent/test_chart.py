"""Consent on the chart and on patient lists (issue 3 item 4): clinicians see each region's status and
the records; the front desk sees only whether consent is on file for each region."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.chart import consent_badges, consent_panel
from consent.models import Region
from consent.selectors import RecordListed
from consent.services.obtaining import withdraw_consent
from tests.factories import ConsentFormFactory, PatientFactory, give_consent

pytestmark = pytest.mark.django_db


def panel_for(user, patient):
    request = RequestFactory().get("/")
    request.user = user
    return consent_panel(request, patient)


def test_clinicians_see_each_regions_status_and_the_records(physio, consent_form, patient):
    consent = give_consent(patient, declined=(Region.MID_BACK,))
    panel = panel_for(physio, patient)
    labels = {status.region: status.label for status in panel["context"]["statuses"]}
    assert labels[Region.NECK].startswith("Accepted") and labels[Region.MID_BACK].startswith("Declined")
    assert panel["context"]["records"] == [
        RecordListed(consent.pk, consent.signed_at, None, consent.form.version, str(consent.explained_by))
    ]
    assert panel["context"]["may_obtain"]
    assert panel["clinical"] is False


def test_the_front_desk_gets_only_on_file_per_region(front_desk, consent_form, patient):
    give_consent(patient, declined=(Region.MID_BACK,))
    context = panel_for(front_desk, patient)["context"]
    assert context == {
        "on_file": [(Region.GENERAL.label, True), (Region.NECK.label, True), (Region.MID_BACK.label, False)]
    }
    give_consent(patient, accepted=(Region.NECK, Region.MID_BACK))  # the general risks declined
    context = panel_for(front_desk, patient)["context"]
    assert context == {"on_file": [(region.label, False) for region in Region]}


def test_the_chart_page_shows_the_panel_to_a_physio_with_links(client_for, physio, consent_form, patient):
    consent = give_consent(patient, declined=(Region.MID_BACK,))
    html = client_for(physio).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="consent-panel"' in html
    assert reverse("consent:detail", args=[consent.pk]) in html
    assert reverse("consent:obtain", args=[patient.pk]) in html
    assert "Declined" in html


def test_the_chart_page_shows_the_front_desk_no_consent_details(client_for, consent_form, patient):
    consent = give_consent(patient, declined=(Region.MID_BACK,))
    withdraw_consent(give_consent(PatientFactory()), by=consent.explained_by, reason="Private reason")
    html = client_for(Role.FRONT_DESK).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="consent-panel"' in html
    assert html.count("On file") == 2 and html.count("Not on file") == 1
    assert reverse("consent:detail", args=[consent.pk]) not in html
    assert reverse("consent:obtain", args=[patient.pk]) not in html
    assert "declined" not in html.lower() and "explained by" not in html.lower()


def test_badges_say_what_is_on_file_for_every_patient_in_one_query(consent_form, django_assert_num_queries):
    accepted, declined, withdrawn, none = PatientFactory.create_batch(4)
    give_consent(accepted)
    give_consent(declined, declined=(Region.NECK, Region.MID_BACK))
    consent = give_consent(withdrawn)
    withdraw_consent(consent, by=consent.explained_by, reason="Changed mind")
    with django_assert_num_queries(1):
        badges = consent_badges([accepted, declined, withdrawn, none])
    assert badges[accepted.pk] == [{"label": "Consent on file: general, neck, mid back", "level": "success"}]
    assert badges[declined.pk] == [{"label": "Consent on file: general", "level": "success"}]
    assert badges[withdrawn.pk] == [{"label": "No consent on file", "level": "secondary"}]
    assert badges[none.pk] == [{"label": "No consent on file", "level": "secondary"}]


def test_a_patient_who_declined_the_general_risks_has_no_consent_on_file(consent_form, patient):
    # The neck and mid back were accepted, but nothing may be needled without the general risks.
    give_consent(patient, accepted=(Region.NECK, Region.MID_BACK))
    assert consent_badges([patient])[patient.pk] == [{"label": "No consent on file", "level": "secondary"}]


def test_badges_ask_for_reconsent(consent_form, patient):
    give_consent(patient)
    ConsentFormFactory(requires_reconsent=True)
    assert consent_badges([patient])[patient.pk] == [{"label": "Re-consent needed", "level": "warning"}]


def test_the_patient_list_badges_stay_constant_in_queries(
    client_for, consent_form, django_assert_max_num_queries
):
    for index, patient in enumerate(PatientFactory.create_batch(20, family_name="Tremblay")):
        if index % 2:
            give_consent(patient)
    client = client_for(Role.FRONT_DESK)
    client.get(reverse("patients:list"), {"q": "Tremblay"})  # warm the session and content types
    with django_assert_max_num_queries(12):
        response = client.get(reverse("patients:list"), {"q": "Tremblay"})
    assert response.content.decode().count("Consent on file") == 10


def test_the_consent_panel_queries_do_not_grow_with_records(
    physio, consent_form, patient, django_assert_max_num_queries
):
    for _ in range(8):
        give_consent(patient)
    with django_assert_max_num_queries(2):
        panel = panel_for(physio, patient)
    assert len(panel["context"]["records"]) == 8


def test_the_panel_lists_each_record_with_its_version_clinician_and_withdrawal(
    client_for, consent_form, patient
):
    import re

    from tests.factories import PhysioFactory

    kept = give_consent(patient, by=PhysioFactory(full_name="Priya Sandhu"))
    withdrawn = give_consent(patient)
    withdraw_consent(withdrawn, by=withdrawn.explained_by, reason="Changed their mind")
    page = client_for(Role.PHYSIO).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    text = re.sub(r"\s+", " ", page)
    withdrawn.refresh_from_db()
    day, signed, gone = (
        f"{timezone.localtime(moment):%Y-%m-%d}"
        for moment in (kept.signed_at, withdrawn.signed_at, withdrawn.withdrawn_at)
    )
    assert (
        f'/consent/{kept.pk}/">{day}, version {consent_form.version}</a>, explained by Priya Sandhu</li>'
        in text
    )
    assert (
        f'/consent/{withdrawn.pk}/">{signed}, version {consent_form.version}</a>, explained by '
        f'{withdrawn.explained_by.full_name} <span class="badge text-bg-danger">withdrawn {gone}</span>'
    ) in text
