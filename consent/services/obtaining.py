"""Obtaining a consent (the patient's decision on each risk of the current version, signed) and withdrawing
one. Each is audited inside the transaction of the change."""

import uuid

from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction
from audit.services import record as audit

from ..errors import ConsentRefused, DuplicateSubmission
from ..models import ConsentRecord, RiskDecision, RiskItem, SignerRelationship
from ..selectors import current_form, forget_statuses
from .signatures import clean_signature


def obtain_consent(
    patient,
    *,
    decisions,
    explained_by,
    signer_name,
    signer_relationship=SignerRelationship.PATIENT,
    signature,
    form=None,
    recorded_by=None,
    submission_key=None,
    request=None,
):
    """Save a signed consent: `decisions` maps each RiskItem (or its id) of the current version to True
    (accepted) or False (declined). Audited (Action.SIGN).

    Refuses: an archived patient; a version that is not the current one; a decision missing for any
    risk, or given for a risk of another version; an explainer who is not a physiotherapist; a signer
    without a name or with an unknown relationship; an empty or unreadable signature. A second submission
    of the same page (same submission_key) raises DuplicateSubmission carrying the first record."""
    errors = {}
    if patient.archived_at is not None:
        raise ConsentRefused("This patient is archived; restore the patient before obtaining consent.")
    current = current_form()
    form = form or current
    if form is None or current is None:
        raise ConsentRefused("No consent form version is published yet; ask the administrator.")
    if form.pk != current.pk:
        raise ConsentRefused(
            f"Version {form.version} is no longer the current form; version {current.version} replaced it. "
            "Open the consent page again."
        )
    if submission_key is not None:
        existing = ConsentRecord.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            raise DuplicateSubmission(existing)
    risks = {item.pk: item for item in RiskItem.objects.filter(form=form)}
    answers = {}
    for key, accepted in dict(decisions).items():
        risk_id = getattr(key, "pk", key)
        try:
            risk_id = int(risk_id)
        except (TypeError, ValueError):
            risk_id = None
        if risk_id not in risks:
            raise ConsentRefused("A decision was given for a risk that is not on this version of the form.")
        if accepted not in (True, False):
            raise ConsentRefused("Each risk must be accepted or declined.")
        answers[risk_id] = accepted
    missing = [item for item in risks.values() if item.pk not in answers]
    if missing:
        errors["decisions"] = (
            "Accept or decline every risk: " + ", ".join(item.title for item in missing) + "."
        )
    if explained_by is None or not explained_by.has_role(Role.PHYSIO):
        errors["explained_by"] = "Consent is explained by a physiotherapist."
    signer_name = (signer_name or "").strip()
    if not signer_name:
        errors["signer_name"] = "Enter the name of the person signing."
    if signer_relationship not in SignerRelationship.values:
        errors["signer_relationship"] = "Choose how the signer relates to the patient."
    try:
        signature = clean_signature(signature)
    except ConsentRefused as error:
        errors["signature"] = error.messages[0]
    if errors:
        raise ConsentRefused(errors)
    consent = ConsentRecord(
        patient=patient,
        form=form,
        explained_by=explained_by,
        signer_name=signer_name,
        signer_relationship=signer_relationship,
        signature=signature,
        signed_at=timezone.now(),
        submission_key=submission_key or uuid.uuid4(),
    )
    try:
        with audited_transaction():
            consent.save(force_insert=True)
            RiskDecision.objects.bulk_create(
                [
                    RiskDecision(record=consent, risk_item_id=risk_id, accepted=answers[risk_id])
                    for risk_id in risks
                ]
            )
            # The detail names the version only: the chart's recent activity shows it to the front desk
            # too, which may know whether consent is on file, not what was declined.
            audit(
                Action.SIGN,
                request=request,
                user=recorded_by,
                obj=consent,
                patient_id=patient.pk,
                detail=f"consent on version {form.version}",
            )
    except IntegrityError as error:
        existing = ConsentRecord.objects.filter(submission_key=consent.submission_key).first()
        if existing is not None:
            raise DuplicateSubmission(existing) from error
        raise
    forget_statuses()
    return consent


def withdraw_consent(record, *, by, reason, request=None):
    """Withdraw a consent from now on: it grants nothing afterwards. Audited (Action.WITHDRAW).

    Refuses a consent already withdrawn, a withdrawal without a reason, and anyone but a clinician."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsentRefused({"reason": "Give the reason for the withdrawal."})
    if by is None or not by.is_clinical:
        raise ConsentRefused("Only a clinician records a withdrawal of consent.")
    with audited_transaction():
        locked = ConsentRecord.objects.select_for_update().get(pk=record.pk)
        if locked.withdrawn_at is not None:
            raise ConsentRefused(f"This consent was already withdrawn on {locked.withdrawn_at:%Y-%m-%d}.")
        record.withdrawn_at = timezone.now()
        record.withdrawn_by = by
        record.withdrawal_reason = reason
        record.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit(
            Action.WITHDRAW,
            request=request,
            user=by,
            obj=record,
            patient_id=record.patient_id,
            detail="withdrawn",
        )
    forget_statuses()
    return record
