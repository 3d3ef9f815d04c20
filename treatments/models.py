"""Needling sessions: the catalogues (muscles, needle sizes), the session with its assessment, needle
points, side effects and addenda. Rules that span models live in treatments/services.py, which validates
once and then saves (model save() holds no business rule); the database holds the same rules for every
other door: signed sessions are read-only (migration 0003), and a point is refused unless the consent it
refers to allows it and its clinician is authorised (migration 0006)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from clinic.fields import LimitedTextField, length_limits
from patients.models import SCREENING_ITEMS, BodyRegion, Patient  # noqa: F401 (BodyRegion: named here too)

# A clinical note (complaint, findings, plan, addendum): a few pages of text at most.
CLINICAL_NOTE = 10_000
# One line of an incident's follow-up, or its outcome: a paragraph or two.
INCIDENT_NOTE = 2000


class RiskRegion(models.TextChoices):
    """The consent regions a muscle lies in (values match consent.models.Region)."""

    NONE = "none", "None"
    NECK = "neck", "Neck (cervical)"
    MID_BACK = "mid_back", "Mid back (thoracic, chest wall)"


class Muscle(models.Model):
    """A muscle of the catalogue. Administrators edit it in the admin; retired muscles are made inactive
    (points already recorded keep them)."""

    name = models.CharField(max_length=120, unique=True)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    risk_region = models.CharField(
        max_length=10,
        choices=RiskRegion.choices,
        default=RiskRegion.NONE,
        help_text="Points in the neck or mid back need an accepted, current consent for that region.",
    )
    advisory_max_depth_mm = models.DecimalField(
        "advisory maximum depth (mm)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Only where a published source gives a figure for this muscle (cite it below). A deeper "
        "point needs the clinician's explicit confirmation (e.g. rhomboid major 19 mm).",
    )
    advisory_depth_source = models.CharField(
        "source of the advisory depth",
        max_length=300,
        blank=True,
        help_text="The published source of the advisory maximum depth: authors, study, where to find it.",
    )
    segment_applies = models.BooleanField(
        default=False, help_text="Paraspinal muscle: a point records its spinal segment (Gunn IMS)."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["body_region", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk_region__in=RiskRegion.values), name="muscle_risk_region_known"
            ),
            models.CheckConstraint(
                condition=models.Q(advisory_max_depth_mm__isnull=True)
                | models.Q(advisory_max_depth_mm__gt=0),
                name="muscle_advisory_depth_positive",
            ),
            # Never invent a depth: a figure comes with its published source (treatments/catalogue.py).
            models.CheckConstraint(
                condition=models.Q(advisory_max_depth_mm__isnull=True) | ~models.Q(advisory_depth_source=""),
                name="muscle_advisory_depth_cited",
                violation_error_message="An advisory maximum depth needs its published source.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_risk(self):
        return self.risk_region != RiskRegion.NONE

    @property
    def over_lung_field(self):
        """Over the lung fields (the neck and mid back risk regions) with no published depth: the point
        form shows the lung-field prompt instead of a number."""
        return self.is_risk and self.advisory_max_depth_mm is None

    def clean(self):
        if self.advisory_max_depth_mm is not None and not self.advisory_depth_source.strip():
            raise ValidationError(
                {"advisory_depth_source": "Cite the published source of the advisory maximum depth."}
            )


class NeedleSize(models.Model):
    """A needle in stock, as gauge (diameter in mm) x length in mm, e.g. 0.25 x 40 mm."""

    gauge_mm = models.DecimalField("gauge (mm)", max_digits=4, decimal_places=2)
    length_mm = models.PositiveSmallIntegerField("length (mm)")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["gauge_mm", "length_mm"]
        constraints = [
            models.UniqueConstraint(fields=["gauge_mm", "length_mm"], name="needle_size_unique"),
            models.CheckConstraint(
                condition=models.Q(gauge_mm__gt=0, gauge_mm__lt=1, length_mm__gt=0),
                name="needle_size_positive",
            ),
        ]

    def __str__(self):
        return f"{self.gauge_mm:.2f} x {self.length_mm} mm"


# Spinal segments a Gunn IMS point may carry: C1 to S4.
SEGMENTS = (
    [f"C{n}" for n in range(1, 9)]
    + [f"T{n}" for n in range(1, 13)]
    + [f"L{n}" for n in range(1, 6)]
    + [f"S{n}" for n in range(1, 5)]
)
SEGMENT_CHOICES = [(s, s) for s in SEGMENTS]


class Side(models.TextChoices):
    LEFT = "L", "Left"
    RIGHT = "R", "Right"
    BILATERAL = "B", "Bilateral"


class Technique(models.TextChoices):
    PISTONING = "pistoning", "Fast-in, fast-out (pistoning)"
    STATIC = "static", "Static (left in situ)"
    ROTATION = "rotation", "Rotation / winding"
    GUNN_IMS = "gunn_ims", "Gunn IMS (segmental)"


class Twitch(models.TextChoices):
    NONE = "none", "None"
    SINGLE = "single", "Single"
    MULTIPLE = "multiple", "Multiple"


class PatientResponse(models.TextChoices):
    NONE = "none", "None"
    ACHE = "ache", "Ache"
    REFERRED = "referred", "Referred pain"
    FAMILIAR = "familiar", "Familiar pain reproduced"


PAIN_VALIDATORS = [
    MinValueValidator(0, "Pain is scored 0 to 10."),
    MaxValueValidator(10, "Pain is scored 0 to 10."),
]


class SessionSigned(ValidationError):
    """Raised on any attempt to change a signed session, its points or side effects."""

    def __init__(self):
        super().__init__(
            "This session is signed and read-only; write an addendum to correct it.", code="signed"
        )


class NeedlingSession(models.Model):
    """One needling visit: assessment, needle points, immediate response, side effects, aftercare and the
    clinician's signature. Signed sessions are read-only (model, service and database trigger);
    corrections are addenda. `version` makes concurrent edits of a draft fail loudly."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="needling_sessions")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appointment = models.OneToOneField(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="needling_session",
    )
    started_at = models.DateTimeField(default=timezone.now)
    # Assessment
    presenting_complaint = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    history = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    pain_before = models.PositiveSmallIntegerField(
        "pain before (NRS 0-10)", null=True, blank=True, validators=PAIN_VALIDATORS
    )
    rom_findings = LimitedTextField("range of motion findings", blank=True, max_length=CLINICAL_NOTE)
    screening_reviewed = models.BooleanField("screening reviewed with the patient", default=False)
    impression = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    plan = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    # The plan's review date: when the course of care is reassessed (DOMAIN.md: a series of sessions,
    # planned after a detailed assessment). Shown on the chart's course of care.
    review_on = models.DateField(
        "review date",
        null=True,
        blank=True,
        help_text="When the plan is reviewed with the patient (the chart's course of care shows it).",
    )
    # After treatment
    pain_after = models.PositiveSmallIntegerField(
        "pain after (NRS 0-10)", null=True, blank=True, validators=PAIN_VALIDATORS
    )
    movement_change = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    immediate_response = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    aftercare_heat_hydration = models.BooleanField(
        "aftercare given: soreness, heat and hydration", default=False
    )
    aftercare_warning_signs = models.BooleanField(
        "aftercare given: warning signs after neck or mid back points (breathlessness, chest pain)",
        default=False,
    )
    aftercare_notes = LimitedTextField(blank=True, max_length=CLINICAL_NOTE)
    # Needles reconciled
    needles_in = models.PositiveSmallIntegerField(null=True, blank=True)
    needles_out = models.PositiveSmallIntegerField(null=True, blank=True)
    sharps_disposed = models.BooleanField("sharps disposed", default=False)
    # Signature
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="session_patient_idx"),
            models.Index(fields=["clinician", "-started_at"], name="session_clinician_idx"),
            # A clinician's drafts (My day), newest first: a few rows among their thousands of signed
            # sessions, which session_clinician_idx would read one by one to skip (treatments.selectors).
            models.Index(
                fields=["clinician", "-started_at"],
                name="session_draft_idx",
                condition=models.Q(signed_at__isnull=True),
            ),
        ]
        constraints = [
            *length_limits(
                presenting_complaint=CLINICAL_NOTE,
                history=CLINICAL_NOTE,
                rom_findings=CLINICAL_NOTE,
                impression=CLINICAL_NOTE,
                plan=CLINICAL_NOTE,
                movement_change=CLINICAL_NOTE,
                immediate_response=CLINICAL_NOTE,
                aftercare_notes=CLINICAL_NOTE,
            ),
            models.CheckConstraint(
                condition=models.Q(pain_before__isnull=True)
                | models.Q(pain_before__gte=0, pain_before__lte=10),
                name="session_pain_before_0_10",
                violation_error_message="Pain is scored 0 to 10.",
            ),
            models.CheckConstraint(
                condition=models.Q(pain_after__isnull=True) | models.Q(pain_after__gte=0, pain_after__lte=10),
                name="session_pain_after_0_10",
                violation_error_message="Pain is scored 0 to 10.",
            ),
            models.CheckConstraint(
                condition=models.Q(signed_at__isnull=True)
                | models.Q(signed_by__isnull=False, needles_in=models.F("needles_out"))
                & ~models.Q(content_hash=""),
                name="session_signed_complete",
                violation_error_message=(
                    "A signed session needs its signer, equal needles in and out, and a content hash."
                ),
            ),
        ]

    def __str__(self):
        return f"Needling session {self.pk or 'new'} for {self.patient} on {self.started_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        # The database refuses too (migration 0003); this only turns its refusal into a message.
        _refuse_if_signed(self.pk)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Needling sessions are never deleted (BC: records kept 16 years).")

    @property
    def is_signed(self):
        return self.signed_at is not None

    def refuse_if_signed(self):
        """Raise SessionSigned when this session, as loaded, is signed: the one place the rule "a signed
        session is read-only" is written in Python (migration 0003's trigger is its database backstop)."""
        if self.is_signed:
            raise SessionSigned()


class ClockTimestamp(models.Func):
    """clock_timestamp(): the moment of the statement itself, not of its transaction's start."""

    template = "clock_timestamp()"
    output_field = models.DateTimeField()


class NeedlePoint(models.Model):
    """One needle point of a session, in order. It refers to the consents that allowed it when it was
    recorded (the general risks, and the neck or mid back for a point in those regions); the database
    refuses a point whose references are missing or do not allow it (migration 0006)."""

    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="points")
    order = models.PositiveSmallIntegerField()
    muscle = models.ForeignKey(Muscle, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=1, choices=Side.choices)
    segment = models.CharField(
        "spinal segment",
        max_length=3,
        choices=SEGMENT_CHOICES,
        blank=True,
        help_text="C1 to S4, when relevant.",
    )
    needle_size = models.ForeignKey(NeedleSize, on_delete=models.PROTECT, related_name="+")
    depth_mm = models.DecimalField(
        "depth (mm)",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"), "The depth must be more than 0 mm.")],
    )
    insertions = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1, "A point needs at least one insertion.")]
    )
    technique = models.CharField(max_length=12, choices=Technique.choices, default=Technique.PISTONING)
    twitch_response = models.CharField(max_length=10, choices=Twitch.choices, default=Twitch.NONE)
    patient_response = models.CharField(
        max_length=10, choices=PatientResponse.choices, default=PatientResponse.NONE
    )
    depth_confirmed = models.BooleanField(
        "depth beyond the advisory maximum confirmed",
        default=False,
        help_text="Needed past the muscle's advisory depth.",
    )
    notes = models.CharField(max_length=300, blank=True)
    # When the point was recorded (or last corrected): consent, authorisation and screening are judged at
    # this moment, by the service and by the database alike. Raw INSERTs get the statement's own time.
    recorded_at = models.DateTimeField(default=timezone.now, db_default=ClockTimestamp(), editable=False)
    consent = models.ForeignKey(
        "consent.ConsentRecord",
        verbose_name="consent (general risks)",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="The consent whose acceptance of the general risks allowed this point.",
    )
    region_consent = models.ForeignKey(
        "consent.ConsentRecord",
        verbose_name="consent (neck or mid back)",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        help_text="For a neck or mid back point: the consent whose acceptance of that region allowed it.",
    )

    class Meta:
        ordering = ["session", "order"]
        constraints = [
            models.UniqueConstraint(fields=["session", "order"], name="point_order_unique"),
            models.CheckConstraint(
                condition=models.Q(depth_mm__gt=0),
                name="point_depth_positive",
                violation_error_message="The depth must be more than 0 mm.",
            ),
            models.CheckConstraint(
                condition=models.Q(insertions__gte=1),
                name="point_insertions_positive",
                violation_error_message="A point needs at least one insertion.",
            ),
            models.CheckConstraint(condition=models.Q(side__in=Side.values), name="point_side_known"),
            models.CheckConstraint(
                condition=models.Q(segment="") | models.Q(segment__in=SEGMENTS), name="point_segment_known"
            ),
            models.CheckConstraint(
                condition=models.Q(twitch_response__in=Twitch.values), name="point_twitch_known"
            ),
            models.CheckConstraint(
                condition=models.Q(patient_response__in=PatientResponse.values), name="point_response_known"
            ),
        ]

    def __str__(self):
        return f"{self.order}. {self.muscle} ({self.get_side_display()})"

    def save(self, *args, **kwargs):
        # The database refuses too (migration 0003); this only turns its refusal into a message.
        _refuse_if_signed(self.session_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Needle points are never deleted; correct a draft point by editing it.")

    @property
    def technique_short(self):
        """The technique without its explanation in brackets, for narrow tables."""
        return self.get_technique_display().split(" (")[0]


class PointRemoval(models.Model):
    """A point entered in error on a draft, removed with a reason. The point itself is kept (nothing
    clinical is hard-deleted, BC: 16 years): it stays in the record struck through with this reason, on
    the session screen and the visit summary, and in the signed content hash; it no longer counts as a
    needled point (the body chart, needles in, the reports). On a signed session the correction is an
    addendum instead: the database refuses a removal there, and any change to one (migration 0009)."""

    point = models.OneToOneField(NeedlePoint, on_delete=models.PROTECT, related_name="removal")
    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="removals")
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["session", "removed_at", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(reason=""), name="removal_has_a_reason")]

    def __str__(self):
        return f"Point {self.point.order} removed by {self.removed_by}: {self.reason}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("A removal is kept as written.")


class PrecautionAcknowledgement(models.Model):
    """The clinician's acknowledgement, for one session, of a precaution found at screening (a bleeding
    risk, a pneumothorax risk factor...): needed before any point the precaution covers, recorded on the
    session and its visit summary, and needed again at the next session. Never changed or removed
    (migration 0008)."""

    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="acknowledgements")
    item = models.CharField(max_length=40, choices=SCREENING_ITEMS)
    screening = models.ForeignKey("patients.Screening", on_delete=models.PROTECT, related_name="+")
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "acknowledged_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "item"], name="acknowledgement_once_per_session")
        ]

    def __str__(self):
        day = f"{self.acknowledged_at:%Y-%m-%d}"
        return f"{self.get_item_display()} acknowledged by {self.acknowledged_by} on {day}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Acknowledgements are never deleted.")


class SideEffectType(models.TextChoices):
    """DOMAIN.md's list: the categories of Brady 2014 and Boyce 2020, plus the rare serious ones."""

    BRUISING = "bruising", "Bruising"
    BLEEDING = "bleeding", "Bleeding"
    PAIN_DURING = "pain_during", "Pain during needling"
    PAIN_AFTER = "pain_after", "Pain after needling (post-needling soreness)"
    AGGRAVATION = "aggravation", "Aggravation of symptoms"
    DROWSINESS = "drowsiness", "Drowsiness"
    FATIGUE = "fatigue", "Fatigue"
    HEADACHE = "headache", "Headache"
    NAUSEA = "nausea", "Nausea"
    FAINTING = "fainting", "Fainting (vasovagal / syncope)"
    EXCESSIVE_BLEEDING = "excessive_bleeding", "Excessive bleeding"
    PROLONGED_AGGRAVATION = "prolonged_aggravation", "Prolonged aggravation"
    NERVE_IRRITATION = "nerve_irritation", "Nerve irritation (tingling, numbness)"
    INFECTION = "infection", "Infection at the site"
    STUCK_NEEDLE = "stuck_needle", "Stuck or bent needle"
    BROKEN_NEEDLE = "broken_needle", "Broken needle"
    PNEUMOTHORAX = "pneumothorax", "Suspected pneumothorax"
    OTHER = "other", "Other (described)"


class Severity(models.TextChoices):
    """White's scale, as Physiotherapy Alberta uses it."""

    MILD = "mild", "Mild: short-lived, reversible, no inconvenience"
    SIGNIFICANT = "significant", "Significant: needs medical attention or interferes with daily activities"
    SERIOUS = "serious", "Serious: hospital admission, persistent disability or death"


class Onset(models.TextChoices):
    DURING = "during", "During needling"
    IMMEDIATELY = "immediately", "Immediately after"
    WITHIN_24H = "within_24h", "Within 24 hours"
    DAY_2 = "day_2", "24 to 48 hours"
    LATER = "later", "Later than 48 hours"


class SideEffect(models.Model):
    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="side_effects")
    type = models.CharField(max_length=24, choices=SideEffectType.choices)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    onset = models.CharField(max_length=12, choices=Onset.choices, default=Onset.DURING)
    duration = models.CharField(max_length=100, blank=True, help_text="e.g. 10 minutes, 2 days")
    action_taken = models.CharField(max_length=300, blank=True)
    resolved = models.BooleanField(default=False)
    description = models.CharField(max_length=300, blank=True, help_text="Required for \u201cother\u201d.")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["session", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type__in=SideEffectType.values), name="side_effect_type_known"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=Severity.values), name="side_effect_severity_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(type="other") | ~models.Q(description=""),
                name="side_effect_other_described",
                violation_error_message="Describe the side effect when its type is \u201cother\u201d.",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} ({self.severity})"

    def save(self, *args, **kwargs):
        _refuse_if_signed(self.session_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Side effects are never deleted.")

    @property
    def severity_word(self):
        """ "Mild", "Significant" or "Serious" (the display holds the whole definition)."""
        return self.get_severity_display().split(":")[0]

    def clean(self):
        if self.type == SideEffectType.OTHER and not self.description.strip():
            raise ValidationError(
                {"description": "Describe the side effect when its type is \u201cother\u201d."}
            )


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


# Severities that open an incident (DOMAIN.md, White's scale): needs medical attention or worse.
INCIDENT_SEVERITIES = (Severity.SIGNIFICANT, Severity.SERIOUS)


class Incident(models.Model):
    """A critical event followed up (Physiotherapy Alberta asks for a critical event management plan): a
    significant or serious side effect opens one, by the database itself whatever door recorded the side
    effect (migration 0010). The clinician and the manager are alerted at once (home page banner and
    e-mail); the incident then records the actions taken and the follow-up contact with the patient
    (IncidentEntry), and who closed it and when. Nothing about an incident is ever deleted: the only
    changes the database allows are the alert being sent and the one closing."""

    # What opened it: a side effect recorded in the session, or a warning sign the patient reported in the
    # follow-up the day after (treatments/followup.py), when the session is signed and takes no side effect.
    side_effect = models.OneToOneField(
        SideEffect, null=True, blank=True, on_delete=models.PROTECT, related_name="incident"
    )
    follow_up = models.OneToOneField(
        "FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="incident"
    )
    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="incidents")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(max_length=12, choices=Severity.choices)
    opened_at = models.DateTimeField()
    alerted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = LimitedTextField(blank=True, max_length=INCIDENT_NOTE)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["status", "-opened_at"], name="incident_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=IncidentStatus.values), name="incident_status"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="open", closed_at__isnull=True, closed_by__isnull=True, closing_note=""
                )
                | (
                    models.Q(status="closed", closed_at__isnull=False, closed_by__isnull=False)
                    & ~models.Q(closing_note="")
                ),
                name="incident_closed_completely",
                violation_error_message="A closed incident says who closed it, when and why.",
            ),
            *length_limits(closing_note=INCIDENT_NOTE),
            models.CheckConstraint(
                condition=models.Q(side_effect__isnull=False, follow_up__isnull=True)
                | models.Q(side_effect__isnull=True, follow_up__isnull=False),
                name="incident_opened_by_one_thing",
                violation_error_message="An incident is opened by a side effect or by a follow-up answer.",
            ),
        ]

    def __str__(self):
        return f"Incident {self.pk}: {self.what} ({self.severity})"

    @property
    def what(self):
        """What opened it, in a few words: the side effect's type, or the warning signs the patient
        reported."""
        if self.side_effect_id:
            return self.side_effect.get_type_display()
        return "Reported by the patient at follow-up: " + ", ".join(self.follow_up.warning_signs)

    @property
    def severity_word(self):
        return self.get_severity_display().split(":")[0]

    @property
    def is_open(self):
        return self.status == IncidentStatus.OPEN

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Incidents are never deleted.")


class IncidentEntryKind(models.TextChoices):
    ACTION = "action", "Action taken"
    FOLLOW_UP = "follow_up", "Follow-up contact with the patient"
    NOTE = "note", "Note"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    EMAIL = "email", "E-mail"
    OTHER = "other", "Other"


class IncidentEntry(models.Model):
    """One dated line of an incident's follow-up: an action taken, a contact with the patient (how, and
    what they said), or a note. Kept as written (migration 0010)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=IncidentEntryKind.choices)
    contact_method = models.CharField(max_length=12, choices=ContactMethod.choices, blank=True)
    text = LimitedTextField(max_length=INCIDENT_NOTE)
    happened_at = models.DateTimeField(default=timezone.now, help_text="When it was done.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incident", "happened_at", "id"]
        verbose_name_plural = "incident entries"
        constraints = [
            models.CheckConstraint(condition=~models.Q(text=""), name="incident_entry_not_empty"),
            models.CheckConstraint(
                condition=models.Q(kind__in=IncidentEntryKind.values), name="incident_entry_kind"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="follow_up") | ~models.Q(contact_method=""),
                name="incident_follow_up_says_how",
                violation_error_message="Say how the patient was contacted.",
            ),
            *length_limits(text=INCIDENT_NOTE),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.happened_at:%Y-%m-%d %H:%M}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Incident entries are never deleted.")


class Addendum(models.Model):
    """A dated correction or note added to a signed session (signed sessions are never edited)."""

    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)
    text = LimitedTextField(max_length=CLINICAL_NOTE)

    class Meta:
        ordering = ["session", "written_at", "id"]
        verbose_name_plural = "addenda"
        constraints = [
            *length_limits(text=CLINICAL_NOTE),
            models.CheckConstraint(condition=~models.Q(text=""), name="addendum_not_empty"),
        ]

    def __str__(self):
        return f"Addendum by {self.author} on {self.written_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("An addendum is never edited; write another one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Addenda are never deleted.")


class VisitSummary(models.Model):
    """A signed session's visit summary PDF, rendered once and stored with its SHA-256 (issue 17):
    downloads serve these bytes instead of laying the page out again. Each shows the addenda written
    before it was rendered (`addenda`, their count); an addendum makes the next download or the worker
    store another one, and the earlier ones stay (rule 5: nothing clinical is deleted). In the database,
    not on an app server's disk (DESIGN.md "Growing past one machine"); never changed or deleted there
    either (migration 0014, which also checks the hash and that the session is signed)."""

    session = models.ForeignKey(NeedlingSession, on_delete=models.PROTECT, related_name="visit_summaries")
    addenda = models.PositiveIntegerField("addenda shown", editable=False)
    pdf = models.BinaryField()
    sha256 = models.CharField("content SHA-256", max_length=64, editable=False)
    rendered_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["session", "addenda"]
        verbose_name = "stored visit summary"
        constraints = [
            models.UniqueConstraint(fields=["session", "addenda"], name="visit_summary_once_per_addenda"),
        ]

    def __str__(self):
        return f"Visit summary of session {self.session_id} ({self.addenda} addenda)"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("A stored visit summary is never changed; an addendum stores a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Stored visit summaries are never deleted (BC: records kept 16 years).")


def _refuse_if_signed(session_id):
    """The model doors (admin, shell): the session as stored decides, not a possibly stale instance."""
    stored = NeedlingSession.objects.filter(pk=session_id).only("signed_at").first() if session_id else None
    if stored is not None:
        stored.refuse_if_signed()


class OutcomeKind(models.TextChoices):
    """Outcome measures physiotherapists score between sessions. Only measures whose licence allows this
    use are listed (docs/outcomes.md: why the Neck Disability Index is not)."""

    PSFS = "psfs", "Patient-Specific Functional Scale"


# PSFS (Stratford et al. 1995): the patient names the activities they have difficulty with (3 to 5 in
# the published form; at least one here) and scores each 0 (unable) to 10 (able as before the problem).
PSFS_MAX_ACTIVITIES = 5
PSFS_SCORE_VALIDATORS = [
    MinValueValidator(0, "Each activity is scored 0 (unable) to 10 (able as before)."),
    MaxValueValidator(10, "Each activity is scored 0 (unable) to 10 (able as before)."),
]


class OutcomeMeasure(models.Model):
    """One scoring of an outcome measure with the patient, on a session or between sessions. Kept as
    scored: a new scoring is recorded rather than an old one changed (migration 0012 refuses UPDATE and
    DELETE), so the trend on the chart is the record."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcome_measures")
    kind = models.CharField(max_length=10, choices=OutcomeKind.choices, default=OutcomeKind.PSFS)
    session = models.ForeignKey(
        NeedlingSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_measures",
        help_text="The session it was scored at, if any.",
    )
    scored_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The measure's score as computed when recorded (PSFS: the mean of the activity scores).
    score = models.DecimalField(max_digits=4, decimal_places=2)

    class Meta:
        ordering = ["patient", "scored_at", "id"]
        indexes = [models.Index(fields=["patient", "scored_at"], name="outcome_patient_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OutcomeKind.values), name="outcome_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="outcome_score_0_10"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.score} on {self.scored_at:%Y-%m-%d}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Outcome measures are never deleted (BC: records kept 16 years).")


class OutcomeItem(models.Model):
    """One item of a scoring: for the PSFS, an activity the patient named and its score 0 to 10. The
    activity keeps its wording from one scoring to the next, so each activity has its own trend."""

    measure = models.ForeignKey(OutcomeMeasure, on_delete=models.PROTECT, related_name="items")
    order = models.PositiveSmallIntegerField()
    activity = models.CharField(max_length=120)
    score = models.PositiveSmallIntegerField(validators=PSFS_SCORE_VALIDATORS)

    class Meta:
        ordering = ["measure", "order"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "order"], name="outcome_item_order_unique"),
            models.CheckConstraint(condition=~models.Q(activity=""), name="outcome_item_named"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10),
                name="outcome_item_score_0_10",
                violation_error_message="Each activity is scored 0 (unable) to 10 (able as before).",
            ),
        ]

    def __str__(self):
        return f"{self.activity}: {self.score}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Outcome measures are never deleted.")


# Soreness the day after, on the 0-10 numeric rating scale the clinic uses for pain.
SORENESS_BANDS = (("0-3", 0, 3), ("4-6", 4, 6), ("7-10", 7, 10))
FOLLOW_UP_COMMENT = 1000


class FollowUp(models.Model):
    """The short questionnaire a patient answers the day after a session (issue 15): soreness, bruising and
    the warning signs of a pneumothorax. Sent once per session (treatments/followup.py); the answers are
    given once, from the patient's signed link, and never changed after (the service refuses a second
    answer; the desk's phone call is recorded beside them, not over them)."""

    session = models.OneToOneField(NeedlingSession, on_delete=models.PROTECT, related_name="follow_up")
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    soreness = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    bruising = models.BooleanField(null=True, blank=True)
    short_of_breath = models.BooleanField(default=False)
    chest_pain = models.BooleanField(default=False)
    pain_breathing_in = models.BooleanField(default=False)
    comment = LimitedTextField(blank=True, max_length=FOLLOW_UP_COMMENT)
    phoned_at = models.DateTimeField(null=True, blank=True)
    phoned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phoned_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["answered_at", "sent_at"], name="follow_up_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answered_at__isnull=True, soreness__isnull=True, bruising__isnull=True)
                | models.Q(
                    answered_at__isnull=False,
                    soreness__isnull=False,
                    soreness__gte=0,
                    soreness__lte=10,
                    bruising__isnull=False,
                ),
                name="follow_up_answered_completely",
                violation_error_message="An answered follow-up has a soreness and a bruising answer.",
            ),
            *length_limits(comment=FOLLOW_UP_COMMENT),
        ]

    def __str__(self):
        return f"Follow-up of session {self.session_id}"

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Follow-ups are never deleted.")

    @property
    def warning_signs(self):
        """The warning signs the patient reported, in their words."""
        signs = []
        if self.short_of_breath:
            signs.append("shortness of breath")
        if self.chest_pain:
            signs.append("chest pain")
        if self.pain_breathing_in:
            signs.append("pain on breathing in")
        return signs
