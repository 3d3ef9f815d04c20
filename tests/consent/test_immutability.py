"""A signed version never changes; a signed consent changes only by its one withdrawal; nothing is
deleted. Refused by the models and, behind their back, by the database's triggers."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consent.errors import ConsentRefused
from consent.models import ConsentForm, ConsentRecord, Region, RiskDecision, RiskItem, SignedRecordError
from consent.services.obtaining import withdraw_consent
from tests.factories import SIGNATURE, ConsentFormFactory, PhysioFactory, give_consent

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_model_refuses_editing_a_signed_version(consent_form, patient):
    give_consent(patient)
    consent_form.body = "Different words"
    with pytest.raises(SignedRecordError):
        consent_form.save()
    risk = consent_form.risks.first()
    risk.description = "Nothing to worry about"
    with pytest.raises(SignedRecordError):
        risk.save()
    with pytest.raises(SignedRecordError):
        RiskItem(form=consent_form, region=Region.NECK, title="New", description="New").save()


def test_an_unsigned_draft_can_be_edited(db):
    draft = ConsentFormFactory(published_at=None)
    draft.body = "Better words"
    draft.save()
    assert ConsentForm.objects.get(pk=draft.pk).body == "Better words"


def test_database_refuses_update_of_a_signed_version(consent_form, patient):
    give_consent(patient)
    with pytest.raises(DatabaseError, match="has been signed"):
        raw("UPDATE consent_consentform SET body = 'x' WHERE id = %s", [consent_form.pk])
    with pytest.raises(DatabaseError, match="signed consent form"):
        raw("UPDATE consent_riskitem SET description = 'x' WHERE form_id = %s", [consent_form.pk])
    with pytest.raises(DatabaseError, match="signed consent form"):
        raw(
            'INSERT INTO consent_riskitem (form_id, region, title, description, "order") '
            "VALUES (%s, 'neck', 't', 'd', 9)",
            [consent_form.pk],
        )
    with pytest.raises(DatabaseError):
        raw("DELETE FROM consent_riskitem WHERE form_id = %s", [consent_form.pk])
    assert ConsentForm.objects.get(pk=consent_form.pk).body == consent_form.body


def test_model_refuses_editing_or_deleting_a_signed_consent(consent_form, patient):
    consent = give_consent(patient)
    consent.signer_name = "Someone else"
    with pytest.raises(SignedRecordError):
        consent.save()
    with pytest.raises(SignedRecordError):
        consent.delete()
    decision = consent.decisions.first()
    decision.accepted = not decision.accepted
    with pytest.raises(SignedRecordError):
        decision.save()
    with pytest.raises(SignedRecordError):
        decision.delete()


def test_database_refuses_update_and_delete_of_a_signed_consent(consent_form, patient):
    consent = give_consent(patient)
    with pytest.raises(DatabaseError, match="can only be withdrawn"):
        raw("UPDATE consent_consentrecord SET signer_name = 'Forged' WHERE id = %s", [consent.pk])
    with pytest.raises(DatabaseError, match="can only be withdrawn"):
        raw("DELETE FROM consent_consentrecord WHERE id = %s", [consent.pk])
    with pytest.raises(DatabaseError, match="decisions are final"):
        raw("UPDATE consent_riskdecision SET accepted = NOT accepted WHERE record_id = %s", [consent.pk])
    with pytest.raises(DatabaseError, match="decisions are final"):
        raw("DELETE FROM consent_riskdecision WHERE record_id = %s", [consent.pk])
    # A withdrawal that also rewrites the signer is refused as a whole.
    with pytest.raises(DatabaseError, match="can only be withdrawn"):
        raw(
            "UPDATE consent_consentrecord SET withdrawn_at = %s, "
            "withdrawn_by_id = explained_by_id, "
            "withdrawal_reason = 'x', signer_name = 'Forged' WHERE id = %s",
            [timezone.now(), consent.pk],
        )
    stored = ConsentRecord.objects.get(pk=consent.pk)
    assert (stored.signer_name, stored.withdrawn_at) == (consent.signer_name, None)
    assert sorted(consent.decisions.values_list("accepted", flat=True)) == [True, True, True]


def test_database_allows_the_one_withdrawal_and_no_second(consent_form, patient):
    consent = give_consent(patient)
    raw(
        "UPDATE consent_consentrecord SET withdrawn_at = %s, "
        "withdrawn_by_id = explained_by_id, "
        "withdrawal_reason = 'Asked to stop' WHERE id = %s",
        # The app's clock, as withdraw_consent() stamps it: the database's may lag a moved test clock.
        [timezone.now(), consent.pk],
    )
    with pytest.raises(DatabaseError, match="can only be withdrawn"):
        raw("UPDATE consent_consentrecord SET withdrawal_reason = 'Edited' WHERE id = %s", [consent.pk])
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawal_reason == "Asked to stop"


def test_service_refuses_a_second_withdrawal(consent_form, patient):
    consent = give_consent(patient)
    withdraw_consent(consent, by=PhysioFactory(), reason="First")
    with pytest.raises(ConsentRefused, match="already withdrawn"):
        withdraw_consent(ConsentRecord.objects.get(pk=consent.pk), by=PhysioFactory(), reason="Second")
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawal_reason == "First"


def test_database_refuses_a_decision_on_a_risk_of_another_version(consent_form, patient):
    consent = give_consent(patient)
    other = ConsentFormFactory()
    foreign = other.risks.get(region=Region.NECK)
    with pytest.raises(DatabaseError, match="not on the version"):
        raw(
            "INSERT INTO consent_riskdecision (record_id, risk_item_id, accepted) VALUES (%s, %s, true)",
            [consent.pk, foreign.pk],
        )
    assert consent.decisions.count() == 3


def test_database_refuses_an_incomplete_consent_at_commit(consent_form, patient, physio):
    refused = pytest.raises(DatabaseError, match="every risk of its version needs a decision")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        record = ConsentRecord.objects.create(
            patient=patient,
            form=consent_form,
            explained_by=physio,
            signer_name="Pat",
            signature=SIGNATURE,
        )
        RiskDecision.objects.create(record=record, risk_item=consent_form.risks.first(), accepted=True)
        cursor.execute("SET CONSTRAINTS consent_record_complete IMMEDIATE")
    assert not ConsentRecord.objects.filter(patient=patient).exists()
    # The check went back to deferred with the rolled-back block: a real consent still saves.
    assert give_consent(patient).decisions.count() == 3


def test_database_refuses_an_unsigned_consent(consent_form, patient, physio):
    with pytest.raises(DatabaseError, match="consentrecord_signature_present"):
        raw(
            "INSERT INTO consent_consentrecord (patient_id, form_id, explained_by_id, signer_name, "
            "signer_relationship, signature, signed_at, submission_key, withdrawal_reason) "
            "VALUES (%s, %s, %s, 'Pat', 'patient', '', %s, gen_random_uuid(), '')",
            [patient.pk, consent_form.pk, physio.pk, timezone.now()],
        )
