import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberDescriptor, PhoneNumberField
from phonenumber_field.phonenumber import to_python

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


class StoredPhone(str):
    """A phone number's text as read from the database, not parsed yet (PatientPhoneField)."""


class ParsedOnFirstUseDescriptor(PhoneNumberDescriptor):
    """PhoneNumberDescriptor that keeps a number read from the database as text until it is first read.

    django-phonenumber-field parses every number as the row is loaded (phonenumbers.parse, 0.05 to 0.2 ms
    each): three per patient, so a search of 25 patients or a day view of 80 appointments spent much of
    its time parsing numbers it never shows (docs/benchmarks.md, "Appointments day view"). The attribute
    still gives a PhoneNumber (or ""), parsed as the library parses what it reads, and the same object on
    every access; what code assigns is parsed at once, as before."""

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = super().__get__(instance, owner)
        if isinstance(value, StoredPhone):
            value = instance.__dict__[self.field.name] = to_python(str(value))
        return value

    def __set__(self, instance, value):
        if isinstance(value, StoredPhone):
            instance.__dict__[self.field.name] = value
        else:
            super().__set__(instance, value)


class PatientPhoneField(PhoneNumberField):
    """PhoneNumberField whose numbers are parsed when first read, not when the row is loaded.
    values() and values_list() give the stored text (E.164), not a PhoneNumber."""

    descriptor_class = ParsedOnFirstUseDescriptor

    def from_db_value(self, value, expression, connection):
        return StoredPhone(value) if value else value

    def deconstruct(self):
        # The same column as PhoneNumberField: migrations keep naming that class, so none is needed.
        name, _path, args, kwargs = super().deconstruct()
        return name, "phonenumber_field.modelfields.PhoneNumberField", args, kwargs


class Digits(models.Transform):
    """`phone__digits`: the number's digits only ("+1 604-555-1234" -> "16045551234"), as the b-tree
    indexes of migration 0007 hold them, so a whole number typed in the search box is found by equality."""

    lookup_name = "digits"
    template = "regexp_replace(%(expressions)s, '[^0-9]', '', 'g')"
    output_field = models.CharField()


PatientPhoneField.register_lookup(Digits)


def national_phone(patient, field="phone"):
    """The patient's number as the clinic dials it ("(604) 555-1234"), "" when there is none: what
    PhoneNumber.as_national gives, without parsing a North American number stored as E.164."""
    stored = patient.__dict__.get(field)  # the text as read, while nothing has parsed it yet
    if isinstance(stored, StoredPhone) and NANP_E164.match(stored):
        return f"({stored[2:5]}) {stored[5:8]}-{stored[8:]}"
    number = getattr(patient, field)
    return number.as_national if number else ""


# +1, then an area code and an exchange that cannot start with 0 or 1: the numbers phonenumbers formats
# as "(NPA) NXX-XXXX" (tests/patients/test_phone_display.py compares the two).
NANP_E164 = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")


class Patient(models.Model):
    """A person the clinic treats. Archived, never deleted (BC: records kept at least 16 years)."""

    chart_number = models.CharField(max_length=20, unique=True, editable=False, db_default=NextChartNumber())
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    sex = models.CharField("sex assigned at birth", max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender = models.CharField("gender identity", max_length=60, blank=True)
    phone = PatientPhoneField(blank=True)
    phone_alternate = PatientPhoneField("other phone", blank=True)
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
    emergency_contact_phone = PatientPhoneField(blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    referral_source = models.CharField(max_length=150, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Registered by the person themselves on the public booking page, not matched to a known patient: the
    # front desk verifies the record, or merges it into the patient it turns out to be.
    online_unverified = models.BooleanField(
        "booked online, not yet verified",
        default=False,
        db_default=False,
        help_text="Created by an online booking; the front desk verifies it or merges it into an existing "
        "patient.",
    )
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
            # A date of birth typed in the search box: the patients born that day in the search's own order
            # (patients.services._IN_NAME_ORDER), so PostgreSQL reads the first 25 off the b-tree and sorts
            # nothing (migration 0010). Any other lookup by date of birth uses it as the plain index it
            # replaced (patient_dob_idx).
            models.Index(
                "date_of_birth",
                Lower("family_name"),
                Lower("given_name"),
                "id",
                name="patient_dob_name_order_idx",
            ),
            models.Index(fields=["family_name", "given_name"], name="patient_name_idx"),
        ]

    def __str__(self):
        return f"{self.family_name}, {self.display_given_name} ({self.chart_number})"

    @property
    def display_given_name(self):
        return self.preferred_name or self.given_name

    @property
    def national_phone(self):
        """The main phone as the clinic dials it, "" when there is none (see national_phone())."""
        return national_phone(self)

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


class BodyRegion(models.TextChoices):
    """Regions of the body: where a screening finding lies (an infection at the right calf) and where a
    muscle lies (treatments' catalogue, and the body chart drawing one clickable zone per region and side).
    """

    FACE_JAW = "face_jaw", "Face and jaw"
    NECK_ANTERIOR = "neck_anterior", "Front of neck"
    NECK_POSTERIOR = "neck_posterior", "Back of neck and upper trapezius"
    SHOULDER_FRONT = "shoulder_front", "Shoulder (front)"
    SHOULDER_BACK = "shoulder_back", "Shoulder blade and rotator cuff"
    CHEST = "chest", "Chest wall"
    UPPER_BACK = "upper_back", "Mid back (thoracic)"
    LOWER_BACK = "lower_back", "Low back and sacrum"
    ABDOMEN = "abdomen", "Abdomen"
    UPPER_ARM_FRONT = "upper_arm_front", "Upper arm (front)"
    UPPER_ARM_BACK = "upper_arm_back", "Upper arm (back)"
    FOREARM_FRONT = "forearm_front", "Forearm (flexors)"
    FOREARM_BACK = "forearm_back", "Forearm and hand (extensors)"
    HIP_FRONT = "hip_front", "Hip (front)"
    BUTTOCK = "buttock", "Buttock and hip (back)"
    THIGH_FRONT = "thigh_front", "Thigh (front and inner)"
    THIGH_BACK = "thigh_back", "Thigh (back)"
    LEG_FRONT = "leg_front", "Shin and outer leg"
    CALF = "calf", "Calf"


class SiteSide(models.TextChoices):
    """The side of a screening finding's site."""

    LEFT = "L", "Left"
    RIGHT = "R", "Right"
    BOTH = "B", "Both sides (or the midline)"


# The screening checklist of DOMAIN.md ("Screening before needling"), with the pneumothorax risk factors
# of issue 11: key, question as the clinic asks it. Whether each is a contraindication or a precaution,
# and where it applies, is the clinic's ScreeningRule for that item (seeded by migration 0004).
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
    ("chronic_lung_disease", "Chronic lung disease (COPD, emphysema)"),
    ("previous_pneumothorax", "Previous pneumothorax"),
    ("low_body_mass", "Low body mass / thin chest wall"),
]
SCREENING_LABELS = dict(SCREENING_ITEMS)
# Items that name where they are (an infection at the right calf, lymphoedema of the left arm): the
# screening records the site as body regions and a side, so that a rule limited to the named site can
# refuse just that site.
SITE_ITEMS = ("lymphoedema", "recent_surgery", "infection_at_site")
# Items added after screenings were first recorded: older screenings never asked them (NULL, "not asked").
LATER_ITEMS = ("chronic_lung_disease", "previous_pneumothorax", "low_body_mass")


def describe_site(regions, side):
    """ "Calf, right" for a screening item's site (body regions and a side), "" when none is named."""
    if not regions:
        return ""
    names = ", ".join(BodyRegion(region).label.lower() for region in regions)
    side_name = f", {SiteSide(side).label.split(' (')[0].lower()}" if side else ""
    return names[0].upper() + names[1:] + side_name


class Screening(models.Model):
    """One pre-needling screening: a yes/no answer and a note for each item of SCREENING_ITEMS (and the
    site of the items that have one), who asked and when. A new screening is a new row, so the history
    stays (a trigger refuses edits)."""

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
        """[(key, label, answer, note, site)] in checklist order (answer None: not asked on this screening;
        site: "Calf, right" for an item that names one)."""
        return [
            (key, label, getattr(self, key), getattr(self, f"{key}_note"), self.site_label(key))
            for key, label in SCREENING_ITEMS
        ]

    @property
    def flags(self):
        """Labels of the items answered yes: the contraindications and precautions found."""
        return [label for key, label in SCREENING_ITEMS if getattr(self, key)]

    def site_of(self, key):
        """(regions, side) a site item names, or ((), "") for any other item or none named."""
        if key not in SITE_ITEMS:
            return (), ""
        return tuple(getattr(self, f"{key}_site") or ()), getattr(self, f"{key}_side")

    def site_label(self, key):
        """ "Calf, right" for a named site, "" when none is named."""
        return describe_site(*self.site_of(key))

    def not_asked(self):
        """Labels of the items this screening did not ask (recorded before they joined the checklist)."""
        return [label for key, label in SCREENING_ITEMS if getattr(self, key) is None]


# One yes/no field and one note field per checklist item, written from the list so the two never drift.
for _key, _label in SCREENING_ITEMS:
    if _key in LATER_ITEMS:
        Screening.add_to_class(_key, models.BooleanField(_label, null=True, default=None))
    else:
        Screening.add_to_class(_key, models.BooleanField(_label, default=False))
    Screening.add_to_class(f"{_key}_note", models.CharField(f"{_label}: note", max_length=300, blank=True))
for _key in SITE_ITEMS:
    Screening.add_to_class(
        f"{_key}_site",
        ArrayField(
            models.CharField(max_length=20, choices=BodyRegion.choices),
            verbose_name=f"{SCREENING_LABELS[_key]}: where",
            default=list,
            blank=True,
        ),
    )
    Screening.add_to_class(
        f"{_key}_side",
        models.CharField(
            f"{SCREENING_LABELS[_key]}: side", max_length=1, choices=SiteSide.choices, blank=True
        ),
    )


class FindingKind(models.TextChoices):
    CONTRAINDICATION = "contraindication", "Contraindication: no needling where it applies"
    PRECAUTION = "precaution", "Precaution: needling once the clinician acknowledges it for the session"


class AppliesTo(models.TextChoices):
    ALL_POINTS = "all", "Every point of the session"
    NAMED_SITE = "site", "The site the screening names (every point when no site is named)"
    NECK_AND_MID_BACK = "neck_and_mid_back", "Neck and mid back points (over the lung fields)"


class ScreeningRule(models.Model):
    """What a yes to one screening item means for needling: a contraindication (no needling where it
    applies) or a precaution (needling once the clinician acknowledges it for that session), and where
    it applies. One row per item, seeded with documented defaults (migration 0004, docs/safety.md); the
    administrator may change them in the admin (audited). Read by treatments' point rules, in Python and
    in the database trigger alike."""

    item = models.CharField(max_length=40, unique=True, choices=SCREENING_ITEMS, editable=False)
    kind = models.CharField(max_length=20, choices=FindingKind.choices)
    applies_to = models.CharField(max_length=20, choices=AppliesTo.choices, default=AppliesTo.ALL_POINTS)
    reason = LimitedTextField(
        max_length=2000, help_text="Why, with the source: shown to clinicians beside the finding."
    )

    class Meta:
        ordering = ["item"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=FindingKind.values), name="screeningrule_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(applies_to__in=AppliesTo.values), name="screeningrule_applies_to"
            ),
            models.CheckConstraint(
                condition=~models.Q(applies_to=AppliesTo.NAMED_SITE) | models.Q(item__in=SITE_ITEMS),
                name="screeningrule_site_only_for_site_items",
                violation_error_message="Only an item that names a site can apply to that site alone.",
            ),
            *length_limits(reason=2000),
        ]

    def __str__(self):
        kind = self.get_kind_display().split(":")[0].lower()
        return f"{SCREENING_LABELS.get(self.item, self.item)}: {kind}"

    def clean(self):
        # The admin's form leaves `item` out, so the database constraint alone would answer with an error.
        if self.applies_to == AppliesTo.NAMED_SITE and self.item not in SITE_ITEMS:
            raise ValidationError(
                {"applies_to": "Only an item that names a site can apply to that site alone."}
            )

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Screening rules are changed, never deleted (every item needs one).")
