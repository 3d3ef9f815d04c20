from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from clinic.fields import LimitedTextField, length_limits

from .validators import validate_date_of_birth, validate_phn


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Unknown / not recorded"


class NextChartNumber(models.Func):
    """The next chart number ("C000123"), drawn by the database from its own sequence (migration 0002),
    so numbers are unique across app servers and bulk loads alike."""

    template = "patients_next_chart_number()"
    output_field = models.CharField()


class Patient(models.Model):
    """A person the clinic treats. Archived, never deleted (BC: records kept at least 16 years)."""

    chart_number = models.CharField(max_length=20, unique=True, editable=False, db_default=NextChartNumber())
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    sex = models.CharField("sex assigned at birth", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField("gender identity", max_length=60, blank=True)
    phone = PhoneNumberField(blank=True)
    phone_alternate = PhoneNumberField("other phone", blank=True)
    email = models.EmailField("e-mail", blank=True)
    address = LimitedTextField(blank=True, max_length=500)
    phn = models.CharField(
        "BC Personal Health Number",
        max_length=10,
        blank=True,
        validators=[validate_phn],
        help_text="Optional. Ten digits starting with 9.",
    )
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
            *length_limits(address=500),
            models.UniqueConstraint(fields=["phn"], condition=~models.Q(phn=""), name="patient_phn_unique"),
            models.CheckConstraint(
                condition=models.Q(phn="") | models.Q(phn__regex=r"^9[0-9]{9}$"), name="patient_phn_format"
            ),
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

    def delete(self, *args, **kwargs):
        # BC: records kept at least 16 years. patients.services.archive_patient() is the way out of
        # search; the database refuses DELETE as well (migration 0002).
        raise PermissionDenied("Patients are archived, never deleted.")


# The screening checklist of DOMAIN.md ("Screening before needling"): key, question as the clinic asks it.
SCREENING_ITEMS = [
    ("bleeding_risk", "Bleeding disorder or anticoagulants"),
    ("pregnancy", "Pregnancy"),
    ("needle_phobia", "Needle phobia"),
    ("immunosuppression", "Immunosuppression"),
    ("diabetes", "Diabetes"),
    ("epilepsy", "Epilepsy"),
    ("lymphoedema", "Lymphoedema"),
    ("metal_allergy", "Metal allergy"),
    ("recent_surgery", "Recent surgery near the site"),
    ("infection_at_site", "Infection at the site"),
    ("unable_to_consent", "Inability to consent"),
]
SCREENING_LABELS = dict(SCREENING_ITEMS)


class Screening(models.Model):
    """One pre-needling screening: a yes/no answer and a note for each item of SCREENING_ITEMS, who
    asked and when. A new screening is a new row, so the history stays (a trigger refuses edits)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["patient", "-answered_at", "-id"], name="screening_latest_idx")]

    def __str__(self):
        return f"Screening of {self.patient} on {self.answered_at:%Y-%m-%d}"

    @property
    def answers(self):
        """[(key, label, answer, note)] in checklist order."""
        return [
            (key, label, getattr(self, key), getattr(self, f"{key}_note")) for key, label in SCREENING_ITEMS
        ]

    @property
    def flags(self):
        """Labels of the items answered yes: the contraindications and precautions found."""
        return [label for key, label in SCREENING_ITEMS if getattr(self, key)]


# One yes/no field and one note field per checklist item, written from the list so the two never drift.
for _key, _label in SCREENING_ITEMS:
    Screening.add_to_class(_key, models.BooleanField(_label, default=False))
    Screening.add_to_class(f"{_key}_note", models.CharField(f"{_label}: note", max_length=300, blank=True))
