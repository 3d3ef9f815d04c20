"""The one service the needling work asks (issue 3 item 8), for each way consent can be missing. The
general risks of needling gate every point: without them accepted nothing may be needled (DOMAIN.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.errors import NeedlingNotAllowed
from consent.models import Region
from consent.selectors import allowed_regions, check_region_allowed, consent_status
from consent.services.obtaining import withdraw_consent
from tests.factories import ConsentFormFactory, PhysioFactory, give_consent

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_accepted_regions_are_allowed(consent_form, patient):
    give_consent(patient)
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK, Region.MID_BACK}
    check_region_allowed(patient, Region.NECK)
    check_region_allowed(patient, Region.MID_BACK)


def test_no_consent_allows_no_region_at_all(consent_form, patient):
    assert allowed_regions(patient) == frozenset()
    for region in (Region.GENERAL, Region.NECK, Region.MID_BACK, "lower_back"):
        with pytest.raises(
            NeedlingNotAllowed, match=f"No consent for needling is on file for {patient.full_name}"
        ):
            check_region_allowed(patient, region)
    assert allowed_regions(patient.pk) == frozenset()
    with pytest.raises(NeedlingNotAllowed, match=f"on file for {patient.full_name}"):
        check_region_allowed(patient.pk, Region.GENERAL)  # an id works too, and the message names them
    assert consent_status([patient])[patient.pk][Region.GENERAL].label == "No consent"
    assert consent_status([patient])[patient.pk][Region.NECK].label == "No consent"


def test_general_and_other_regions_pass_with_the_general_risks_accepted(consent_form, patient):
    give_consent(patient, accepted=(Region.GENERAL,))
    assert allowed_regions(patient) == {Region.GENERAL}
    check_region_allowed(patient, Region.GENERAL)
    check_region_allowed(patient, "lower_back")
    with pytest.raises(NeedlingNotAllowed, match="neck.*declined the neck risk"):
        check_region_allowed(patient, Region.NECK)


def test_declined_general_risks_block_every_region(consent_form, patient):
    give_consent(patient, accepted=(Region.NECK, Region.MID_BACK))
    assert allowed_regions(patient) == frozenset()
    today = timezone.localdate().isoformat()
    for region in (Region.GENERAL, Region.NECK, Region.MID_BACK, "lower_back"):
        with pytest.raises(NeedlingNotAllowed, match=f"general risks of needling were declined on {today}"):
            check_region_allowed(patient, region)
    statuses = consent_status([patient])[patient.pk]
    assert statuses[Region.GENERAL].label == f"Declined {today}"
    # What the patient decided for the neck stays visible, but it grants nothing without the general risks.
    assert statuses[Region.NECK].state == "accepted"
    assert not statuses[Region.NECK].allowed
    assert statuses[Region.NECK].label == f"Accepted {today}, but not the general risks"


def test_a_neck_point_needs_both_the_general_risks_and_the_neck(consent_form, patient):
    give_consent(patient, accepted=(Region.NECK,))
    with pytest.raises(NeedlingNotAllowed, match="general risks of needling were declined"):
        check_region_allowed(patient, Region.NECK)
    give_consent(patient, accepted=(Region.GENERAL,))
    with pytest.raises(NeedlingNotAllowed, match="declined the neck risk"):
        check_region_allowed(patient, Region.NECK)
    give_consent(patient, accepted=(Region.GENERAL, Region.NECK))
    check_region_allowed(patient, Region.NECK)
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK}


def test_a_version_without_general_risks_is_not_published(consent_form):
    from consent.errors import ConsentRefused
    from consent.models import RiskItem
    from consent.services.publishing import publish_form
    from tests.factories import AdminFactory

    draft = ConsentFormFactory(published_at=None, risks=False)
    RiskItem.objects.create(form=draft, region=Region.NECK, title="Neck", description="Neck.")
    with pytest.raises(ConsentRefused, match="general risks"):
        publish_form(draft, by=AdminFactory())
    draft.refresh_from_db()
    assert draft.published_at is None


def test_declined_region_is_blocked_and_named(consent_form, patient):
    give_consent(patient, declined=(Region.MID_BACK,))
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK}
    today = timezone.localdate().isoformat()
    with pytest.raises(NeedlingNotAllowed, match=f"mid back.*declined the mid back risk on {today}"):
        check_region_allowed(patient, Region.MID_BACK)
    assert consent_status([patient])[patient.pk][Region.MID_BACK].label == f"Declined {today}"


def test_withdrawn_consent_grants_nothing(consent_form, patient):
    consent = give_consent(patient)
    withdraw_consent(consent, by=PhysioFactory(), reason="Patient changed their mind")
    assert allowed_regions(patient) == frozenset()
    today = timezone.localdate().isoformat()
    for region in (Region.GENERAL, Region.NECK, "lower_back"):
        with pytest.raises(NeedlingNotAllowed, match=f"consent for needling was withdrawn on {today}"):
            check_region_allowed(patient, region)
    status = consent_status([patient])[patient.pk][Region.NECK]
    assert (status.allowed, status.label, status.record.pk) == (False, f"Withdrawn {today}", consent.pk)


def test_withdrawal_does_not_reach_back_in_time(consent_form, patient):
    before = timezone.now()
    consent = give_consent(patient)
    signed = timezone.now()
    withdraw_consent(consent, by=PhysioFactory(), reason="Moved away")
    assert Region.NECK in allowed_regions(patient, at=signed)
    assert Region.NECK not in allowed_regions(patient, at=before)  # not signed yet then
    assert Region.NECK not in allowed_regions(patient)


def test_a_version_requiring_reconsent_supersedes_earlier_consents(consent_form, patient):
    give_consent(patient)
    newer = ConsentFormFactory(requires_reconsent=True)
    assert allowed_regions(patient) == frozenset()
    for region in (Region.GENERAL, Region.NECK):
        with pytest.raises(NeedlingNotAllowed, match=f"re-consent on form version {newer.version}"):
            check_region_allowed(patient, region)
    assert (
        consent_status([patient])[patient.pk][Region.NECK].label
        == f"Re-consent needed (version {newer.version})"
    )
    give_consent(patient, form=newer)
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK, Region.MID_BACK}


def test_a_reconsent_version_not_yet_in_effect_changes_nothing(consent_form, patient):
    give_consent(patient)
    ConsentFormFactory(requires_reconsent=True, effective_date=timezone.localdate() + timedelta(days=10))
    assert Region.NECK in allowed_regions(patient)
    assert Region.NECK not in allowed_regions(patient, at=timezone.now() + timedelta(days=11))


def test_a_new_version_without_reconsent_keeps_earlier_consents(consent_form, patient):
    give_consent(patient)
    ConsentFormFactory(requires_reconsent=False)
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK, Region.MID_BACK}


def test_a_draft_version_changes_nothing(consent_form, patient):
    give_consent(patient)
    ConsentFormFactory(requires_reconsent=True, published_at=None)
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK, Region.MID_BACK}


def test_the_newest_consent_decides(consent_form, patient):
    give_consent(patient)
    give_consent(patient, declined=(Region.NECK,))
    assert allowed_regions(patient) == {Region.GENERAL, Region.MID_BACK}


def test_withdrawing_the_newest_consent_is_not_undone_by_an_older_one(consent_form, patient):
    give_consent(patient)
    newest = give_consent(patient)
    withdraw_consent(newest, by=PhysioFactory(), reason="Does not want needling any more")
    assert allowed_regions(patient) == frozenset()


def test_consent_of_one_patient_does_not_cover_another(consent_form, patient):
    from tests.factories import PatientFactory

    give_consent(patient)
    other = PatientFactory()
    assert allowed_regions(other) == frozenset()


def test_status_reports_every_region_for_every_patient(consent_form, patient):
    from tests.factories import PatientFactory

    other = PatientFactory()
    give_consent(patient, declined=(Region.NECK,))
    statuses = consent_status([patient, other.pk])
    assert set(statuses) == {patient.pk, other.pk}
    assert set(statuses[other.pk]) == set(Region)
    assert [statuses[patient.pk][r].allowed for r in Region] == [True, False, True]
    assert statuses[patient.pk][Region.MID_BACK].on_file
    assert not statuses[patient.pk][Region.NECK].on_file
    assert not statuses[other.pk][Region.NECK].on_file
    assert consent_status([]) == {}


def test_status_queries_do_not_grow_with_patients(consent_form, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PatientFactory

    patients = PatientFactory.create_batch(50)
    for index, patient in enumerate(patients):
        consent = give_consent(patient, declined=(Region.MID_BACK,) if index % 3 else ())
        if index % 5 == 0:
            withdraw_consent(consent, by=consent.explained_by, reason="Withdrawn at the desk")
    with CaptureQueriesContext(connection) as one:
        consent_status(patients[:1])
    with CaptureQueriesContext(connection) as fifty:
        statuses = consent_status(patients)
    assert len(one) == len(fifty) == 1
    assert sum(s[Region.NECK].allowed for s in statuses.values()) == 40
