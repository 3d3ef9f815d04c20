"""seed_demo's consent data (issue 3 item 10): a published version with plain-language risks, consents
for most patients, some declining a region, a few the general risks, some withdrawn; deterministic and
idempotent."""

import pytest
from django.core.management import call_command

from consent.models import ConsentForm, ConsentRecord, Region, RiskDecision
from consent.selectors import consent_status, current_form
from patients.models import Patient

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_published_form_and_varied_consents():
    call_command("seed_demo", "--size", "400", "--quiet")
    form = current_form()
    assert form is not None and form.published_by is not None
    assert {risk.region for risk in form.risks.all()} == set(Region)
    consents = ConsentRecord.objects.count()
    assert 0.85 * 400 < consents < 0.97 * 400
    assert RiskDecision.objects.count() == 3 * consents
    # Most patients may be needled (the general risks accepted now); a few declined the general risks.
    assert RiskDecision.objects.filter(risk_item__region=Region.GENERAL, accepted=False).exists()
    general = consent_status(Patient.objects.values_list("id", flat=True))
    share = sum(by_region[Region.GENERAL].allowed for by_region in general.values()) / 400
    assert 0.82 <= share <= 0.92
    assert RiskDecision.objects.filter(risk_item__region=Region.MID_BACK, accepted=False).exists()
    assert RiskDecision.objects.filter(risk_item__region=Region.NECK, accepted=False).exists()
    withdrawn = ConsentRecord.objects.filter(withdrawn_at__isnull=False)
    assert withdrawn.exists() and all(c.withdrawal_reason and c.withdrawn_by for c in withdrawn)
    statuses = consent_status(Patient.objects.values_list("id", flat=True))
    states = {status.state for by_region in statuses.values() for status in by_region.values()}
    assert {"accepted", "declined", "withdrawn", "none"} <= states


def test_seed_demo_consents_are_deterministic_and_idempotent():
    call_command("seed_demo", "--size", "60", "--quiet")
    first = list(
        ConsentRecord.objects.order_by("patient_id").values_list("patient_id", "signer_name", "signed_at")
    )
    call_command("seed_demo", "--size", "60", "--quiet")
    assert ConsentForm.objects.count() == 1
    assert (
        list(
            ConsentRecord.objects.order_by("patient_id").values_list("patient_id", "signer_name", "signed_at")
        )
        == first
    )
    call_command("seed_demo", "--size", "90", "--quiet")
    assert ConsentRecord.objects.count() > len(first)
