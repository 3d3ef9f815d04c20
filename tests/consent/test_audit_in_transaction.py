"""A consent change and its audit event commit or roll back together (issue 10, part 6): publishing,
obtaining and withdrawing consent write their audit event inside the transaction of the change."""

import pytest
from django.db import DatabaseError

from consent.models import ConsentRecord, Region
from tests.audit.refusal import audit_refused
from tests.factories import ConsentFormFactory, PhysioFactory, give_consent

pytestmark = pytest.mark.django_db


def test_no_consent_is_published_signed_or_withdrawn_without_its_audit_event(patient):
    from consent.services.obtaining import obtain_consent, withdraw_consent
    from consent.services.publishing import publish_form
    from tests.factories import SIGNATURE, AdminFactory

    draft_form = ConsentFormFactory(published_at=None)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        publish_form(draft_form, by=AdminFactory())
    draft_form.refresh_from_db()
    assert draft_form.published_at is None
    form = ConsentFormFactory()
    physio = PhysioFactory()
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        obtain_consent(
            patient,
            form=form,
            decisions={risk: True for risk in form.risks.all()},
            explained_by=physio,
            signer_name=patient.full_name,
            signature=SIGNATURE,
        )
    assert not ConsentRecord.objects.exists()
    record = give_consent(patient, accepted=(Region.GENERAL,), form=form)
    with audit_refused(), pytest.raises(DatabaseError, match="audit trail unavailable"):
        withdraw_consent(record, by=physio, reason="Changed her mind")
    record.refresh_from_db()
    assert record.withdrawn_at is None
