"""What the import keeps: each upload waiting for its dry run to be confirmed (ImportBatch), and where every
imported row came from (ImportedRecord). The FHIR export keeps nothing: it reads the other apps' rows."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SourceSystem(models.TextChoices):
    JANE = "jane", "Jane"
    CLINIKO = "cliniko", "Cliniko"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Dry run, waiting for confirmation"
    IMPORTED = "imported", "Imported"
    DISCARDED = "discarded", "Discarded"


class ImportBatch(models.Model):
    """One upload of a patient CSV (and, if given, an appointments CSV) from Jane or Cliniko: the files as
    uploaded, how their columns map, and the dry run's (then the import's) counts and refusals.

    The files are kept in the database (app servers hold no files: DESIGN.md) only until the batch is
    imported or discarded; their SHA-256 stays, so the audit trail can name exactly what was imported."""

    source_system = models.CharField(max_length=20, choices=SourceSystem.choices)
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    patients_file_name = models.CharField(max_length=200)
    patients_file = models.BinaryField(default=bytes, editable=False)
    patients_sha256 = models.CharField(max_length=64)
    appointments_file_name = models.CharField(max_length=200, blank=True)
    appointments_file = models.BinaryField(default=bytes, editable=False)
    appointments_sha256 = models.CharField(max_length=64, blank=True)
    # How the files are read: encoding, date order, the appointment type and location for rows naming none.
    options = models.JSONField(default=dict)
    # {"patients": {column header: target field}, "appointments": {...}}
    mapping = models.JSONField(default=dict)
    # The dry run's findings, then the import's (interop.imports.Outcome.as_json()).
    result = models.JSONField(default=dict)
    imported_at = models.DateTimeField(null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source_system__in=SourceSystem.values), name="importbatch_source_known"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=BatchStatus.values), name="importbatch_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=BatchStatus.IMPORTED)
                | models.Q(imported_at__isnull=False, imported_by__isnull=False),
                name="importbatch_imported_by_someone",
            ),
        ]

    def __str__(self):
        return f"Import {self.pk} from {self.get_source_system_display()} ({self.get_status_display()})"


class RecordKind(models.TextChoices):
    PATIENT = "patient", "Patient"
    APPOINTMENT = "appointment", "Appointment"


class ImportedRecord(models.Model):
    """Where one imported row came from: its system and its id there, and the row it became here (a patient
    created or matched, an appointment). One row per source id, so a file imported twice creates nothing
    twice."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="records")
    source_system = models.CharField(max_length=20, choices=SourceSystem.choices)
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    source_id = models.CharField(max_length=100)
    row_number = models.PositiveIntegerField(help_text="The line of the file it came from (the header is 1).")
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # False when the row was matched to a patient already registered here (nothing was created).
    created = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "kind", "source_id"], name="importedrecord_once_per_source_id"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=RecordKind.PATIENT, patient__isnull=False, appointment__isnull=True)
                | models.Q(kind=RecordKind.APPOINTMENT, appointment__isnull=False, created=True),
                name="importedrecord_points_at_its_row",
            ),
        ]
        # patient and appointment are indexed as foreign keys already: a second index on each (there
        # were, until migration 0003) only made every provenance row of an import cost two more writes.

    def __str__(self):
        return f"{self.get_source_system_display()} {self.kind} {self.source_id}"


class StagedPatient(models.Model):
    """One row of a batch's patient file as the dry run read it: its values checked and ready to write, or
    the reason it was refused. Kept only while the batch waits (like its files), so that the confirmation
    writes what the administrator saw without reading and checking every row again (100,000 rows in under
    a minute: docs/benchmarks.md); the confirmation matches each row against the registry again, in SQL,
    since the registry may have changed. Nothing here is a patient until the batch is confirmed."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField()
    source_id = models.CharField(max_length=100, blank=True)
    refusal = models.TextField(blank=True)  # why the row is refused; empty for a readable row
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True)
    sex = models.CharField(max_length=10, blank=True)
    gender = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=128, blank=True)  # E.164, as the patient's phone is stored
    phone_alternate = models.CharField(max_length=128, blank=True)
    email = models.CharField(max_length=254, blank=True)
    address = models.CharField(max_length=500, blank=True)
    phn = models.CharField(max_length=10, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_phone = models.CharField(max_length=128, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    referral_source = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="stagedpatient_one_per_line"),
        ]

    def __str__(self):
        return f"Row {self.line} of import {self.batch_id}"
