from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Unknown / not recorded"


class Patient(models.Model):
    """A person the clinic treats. Archived, never deleted (BC: records kept at least 16 years)."""

    chart_number = models.CharField(max_length=20, unique=True, editable=False)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField("sex assigned at birth", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField("gender identity", max_length=60, blank=True)
    phone = PhoneNumberField(blank=True)
    phone_alternate = PhoneNumberField("other phone", blank=True)
    email = models.EmailField("e-mail", blank=True)
    address = models.TextField(blank=True)
    phn = models.CharField("BC Personal Health Number", max_length=10, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = PhoneNumberField(blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    referral_source = models.CharField(max_length=150, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Lower-cased, accent-free "given preferred family" kept by the database for trigram search.
    search_name = models.TextField(editable=False, default="")
    # Phone digits only, for "last digits" search.
    phone_digits = models.CharField(max_length=40, editable=False, default="")

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(fields=["phn"], condition=~models.Q(phn=""), name="patient_phn_unique"),
        ]
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="patient_name_trgm"),
            GinIndex(fields=["phone_digits"], opclasses=["gin_trgm_ops"], name="patient_phone_trgm"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
        ]

    def __str__(self):
        return f"{self.family_name}, {self.display_given_name} ({self.chart_number})"

    @property
    def display_given_name(self):
        return self.preferred_name or self.given_name

    @property
    def full_name(self):
        return f"{self.display_given_name} {self.family_name}"

    @property
    def is_archived(self):
        return self.archived_at is not None
