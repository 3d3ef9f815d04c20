import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone

from clinic.fields import LimitedTextField, length_limits


class Region(models.TextChoices):
    """Risk regions of DOMAIN.md: points over the neck and the mid back carry real risk (pneumothorax)."""

    GENERAL = "general", "General"
    NECK = "neck", "Neck (cervical)"
    MID_BACK = "mid_back", "Mid back (thoracic, chest wall)"


# Regions whose points need an accepted, current consent for that region (DESIGN.md rule 1).
RISK_REGIONS = (Region.NECK, Region.MID_BACK)


class SignedRecordError(PermissionDenied):
    """Raised when something tries to change a consent form version that has been signed, or a signed
    consent record other than by its one withdrawal."""


class ConsentForm(models.Model):
    """One version of the clinic's consent form: the text and the risks the patient accepts or declines.

    A version that has been signed is never edited (the record must show exactly what was signed); the
    database refuses too (migration 0001). A new wording is a new version."""

    title = models.CharField(max_length=200)
    version = models.CharField(max_length=40, unique=True, help_text="As printed on the form, e.g. 2026.2")
    effective_date = models.DateField(help_text="The day this version replaces the one before.")
    body = LimitedTextField(
        help_text="The text the patient reads before the risks, as printed.", max_length=50_000
    )
    requires_reconsent = models.BooleanField(
        "requires re-consent",
        default=False,
        help_text="Consents signed on earlier versions stop granting anything once this version is in "
        "effect: every patient signs again.",
    )
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-published_at", "-id"]
        constraints = [
            *length_limits(body=50_000),
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True) | models.Q(published_by__isnull=False),
                name="consentform_published_by_someone",
            ),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None and self.is_signed():
            raise SignedRecordError(f"Version {self.version} has been signed and can never be edited.")
        if (
            self.pk is not None
            and ConsentForm.objects.filter(pk=self.pk, published_at__isnull=False).exists()
        ):
            # Published: a patient may sign it at any moment, so its wording is fixed from then on.
            raise SignedRecordError(
                f"Version {self.version} is published and can never be edited; draft a new version from it."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_published:
            raise SignedRecordError("A published consent form version is kept; publish a new version.")
        return super().delete(*args, **kwargs)

    @property
    def is_published(self):
        return self.published_at is not None

    def is_signed(self):
        return self.pk is not None and ConsentRecord.objects.filter(form_id=self.pk).exists()


class RiskItem(models.Model):
    """One risk the patient accepts or declines, in plain language, for one region."""

    # Only a draft can be deleted (a published one is kept), and its risks go with it.
    form = models.ForeignKey(ConsentForm, on_delete=models.CASCADE, related_name="risks")
    region = models.CharField(max_length=20, choices=Region.choices)
    title = models.CharField(max_length=200)
    description = LimitedTextField(help_text="Plain language, as the patient reads it.", max_length=5_000)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["form", "order", "id"]
        constraints = [
            *length_limits(description=5_000),
            models.CheckConstraint(
                condition=models.Q(region__in=Region.values), name="riskitem_region_known"
            ),
        ]

    def __str__(self):
        return f"{self.get_region_display()}: {self.title}"

    def save(self, *args, **kwargs):
        if self.form_id is not None and ConsentRecord.objects.filter(form_id=self.form_id).exists():
            raise SignedRecordError("The risks of a signed consent form version can never be edited.")
        self.refuse_if_published("edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.form_id is not None and ConsentRecord.objects.filter(form_id=self.form_id).exists():
            raise SignedRecordError("The risks of a signed consent form version can never be removed.")
        self.refuse_if_published("removed")
        return super().delete(*args, **kwargs)

    def refuse_if_published(self, what):
        # A patient may sign a published version at any moment: its risks are fixed from then on.
        if (
            self.form_id is not None
            and ConsentForm.objects.filter(pk=self.form_id, published_at__isnull=False).exists()
        ):
            raise SignedRecordError(f"The risks of a published consent form version can never be {what}.")


class SignerRelationship(models.TextChoices):
    PATIENT = "patient", "Patient"
    PARENT_OR_GUARDIAN = "parent_or_guardian", "Parent or guardian"
    SUBSTITUTE_DECISION_MAKER = "substitute_decision_maker", "Substitute decision-maker"


WITHDRAWAL_FIELDS = ("withdrawn_at", "withdrawn_by", "withdrawal_reason")


class ConsentRecord(models.Model):
    """A signed consent: the version signed, each risk accepted or declined, who explained it, who signed
    and their signature. Immutable once saved except for its one withdrawal (a trigger holds this);
    never deleted (BC: records kept at least 16 years)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="records")
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="The clinician."
    )
    signer_name = models.CharField(max_length=150)
    signer_relationship = models.CharField(
        max_length=30, choices=SignerRelationship.choices, default=SignerRelationship.PATIENT
    )
    # A data: URL (image/svg+xml or image/png, base64) drawn on screen; kept in the database so app
    # servers hold no files (DESIGN.md "Growing past one machine").
    # A data: URL of at most MAX_SIGNATURE_BYTES (512 KiB) once base64-encoded, with its prefix.
    signature = LimitedTextField(max_length=700_000)
    signed_at = models.DateTimeField(default=timezone.now)
    # The form's one-time key: a double submission of the same page finds this row instead of a second.
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_reason = LimitedTextField(blank=True, max_length=2_000)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["patient", "-signed_at", "-id"], name="consent_patient_latest_idx")]
        constraints = [
            *length_limits(signature=700_000, withdrawal_reason=2_000),
            models.CheckConstraint(
                condition=models.Q(signature__regex=r"^data:image/(svg\+xml|png);base64,[A-Za-z0-9+/=]+$"),
                name="consentrecord_signature_present",
            ),
            models.CheckConstraint(
                condition=models.Q(signer_relationship__in=SignerRelationship.values),
                name="consentrecord_relationship_known",
            ),
            models.CheckConstraint(condition=~models.Q(signer_name=""), name="consentrecord_signer_named"),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True, withdrawal_reason="")
                | (
                    models.Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False)
                    & ~models.Q(withdrawal_reason="")
                    & models.Q(withdrawn_at__gte=models.F("signed_at"))
                ),
                name="consentrecord_withdrawal_complete",
            ),
        ]

    def __str__(self):
        return f"Consent of {self.patient} on {self.form} ({self.signed_at:%Y-%m-%d})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= set(WITHDRAWAL_FIELDS):
                raise SignedRecordError("A signed consent can never be edited; it can only be withdrawn.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # BC: records kept at least 16 years; withdrawal, not deletion, ends a consent.
        raise SignedRecordError("Signed consents are never deleted; withdraw the consent instead.")

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None


class RiskDecision(models.Model):
    """The patient's answer to one risk of the signed version: accepted or declined. Immutable."""

    record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="decisions")
    risk_item = models.ForeignKey(RiskItem, on_delete=models.PROTECT, related_name="+")
    accepted = models.BooleanField()

    class Meta:
        ordering = ["record", "risk_item__order", "risk_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["record", "risk_item"], name="riskdecision_one_per_risk"),
        ]

    def __str__(self):
        return f"{self.risk_item}: {'accepted' if self.accepted else 'declined'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise SignedRecordError("A decision on a signed consent can never be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SignedRecordError("A decision on a signed consent can never be removed.")

    def clean(self):
        if self.record_id and self.risk_item_id and self.risk_item.form_id != self.record.form_id:
            raise ValidationError("This risk belongs to another version of the consent form.")
