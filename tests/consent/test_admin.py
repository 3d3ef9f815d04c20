"""The administrator drafts and publishes versions in the admin; a published or signed version is
read-only there, and nothing clinical can be deleted."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEvent
from consent.models import ConsentForm, ConsentRecord, Region
from tests.factories import ConsentFormFactory, give_consent

pytestmark = pytest.mark.django_db


def add_form_data(**changes):
    data = {
        "title": "Consent to IMS / dry needling",
        "version": "2027.1",
        "effective_date": "2026-11-01",
        "body": "What IMS is, its benefits and risks.",
        "risks-TOTAL_FORMS": "2",
        "risks-INITIAL_FORMS": "0",
        "risks-MIN_NUM_FORMS": "0",
        "risks-MAX_NUM_FORMS": "1000",
        "risks-0-order": "1",
        "risks-0-region": "general",
        "risks-0-title": "Soreness and bruising",
        "risks-0-description": "Common, mild, a day or two.",
        "risks-1-order": "2",
        "risks-1-region": "neck",
        "risks-1-title": "Collapsed lung",
        "risks-1-description": "Rare; breathlessness within two days.",
    }
    data.update(changes)
    return data


def test_the_administrator_drafts_then_publishes_a_version(client_for, administrator):
    client = client_for(administrator)
    response = client.post(reverse("admin:consent_consentform_add"), add_form_data())
    assert response.status_code == 302
    draft = ConsentForm.objects.get(version="2027.1")
    assert draft.published_at is None and draft.risks.count() == 2
    client.post(
        reverse("admin:consent_consentform_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.published_by == administrator and draft.published_at is not None
    assert AuditEvent.objects.filter(action=Action.PUBLISH, object_id=str(draft.pk)).exists()


def test_publishing_a_version_without_risks_is_refused(client_for, administrator):
    draft = ConsentFormFactory(published_at=None, risks=False)
    response = client_for(administrator).post(
        reverse("admin:consent_consentform_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "at least one risk" in response.content.decode()
    draft.refresh_from_db()
    assert draft.published_at is None


def test_a_published_version_is_read_only_in_the_admin(client_for, administrator, consent_form, patient):
    give_consent(patient)
    client = client_for(administrator)
    url = reverse("admin:consent_consentform_change", args=[consent_form.pk])
    page = client.get(url).content.decode()
    assert 'name="body"' not in page and 'name="risks-0-description"' not in page
    client.post(url, {"body": "Rewritten", "title": "x", "version": "x", "effective_date": "2026-01-01"})
    consent_form.refresh_from_db()
    assert consent_form.body != "Rewritten"
    assert (
        client.post(
            reverse("admin:consent_consentform_delete", args=[consent_form.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert ConsentForm.objects.filter(pk=consent_form.pk).exists()


def test_a_draft_can_be_edited_and_deleted(client_for, administrator):
    draft = ConsentFormFactory(published_at=None)
    client = client_for(administrator)
    page = client.get(reverse("admin:consent_consentform_change", args=[draft.pk])).content.decode()
    assert 'name="body"' in page
    client.post(reverse("admin:consent_consentform_delete", args=[draft.pk]), {"post": "yes"})
    assert not ConsentForm.objects.filter(pk=draft.pk).exists()


def test_consent_records_are_view_only_in_the_admin_and_viewing_is_audited(
    client_for, administrator, consent_form, patient
):
    consent = give_consent(patient, declined=(Region.NECK,))
    client = client_for(administrator)
    url = reverse("admin:consent_consentrecord_change", args=[consent.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="signer_name"' not in page.content.decode()
    assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(consent.pk), detail="admin").exists()
    client.post(url, {"signer_name": "Forged"})
    assert ConsentRecord.objects.get(pk=consent.pk).signer_name == consent.signer_name
    assert (
        client.post(
            reverse("admin:consent_consentrecord_delete", args=[consent.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:consent_consentrecord_add")).status_code == 403
    assert ConsentRecord.objects.filter(pk=consent.pk).exists()
