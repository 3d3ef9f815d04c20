from django.conf import settings
from django.db import models


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutboundEmail(models.Model):
    """One e-mail the clinic sends, from the moment a service asks for it until the mail server took it
    (or the last attempt failed). `key` says what it is about ("appointments.reminder:41"): unique in the
    database, so asking twice for the same e-mail queues one. The message is stored as it was written,
    so a retry sends the same words and the same attachment."""

    key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    from_email = models.CharField(max_length=300, blank=True)
    # [{"filename": ..., "content": base64, "mimetype": ...}]
    attachments = models.JSONField(default=list, blank=True)
    # The patient the e-mail is about, for the audit trail; no foreign key: outbox sits below patients.
    patient_id = models.BigIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            )
        ]

    def __str__(self):
        return f"{self.subject} to {', '.join(self.recipients)} ({self.get_status_display()})"


class ScheduledRun(models.Model):
    """One run of a scheduled job (settings.SCHEDULED_TASKS) on one day: unique, so however many workers
    tick at once, the day's run is enqueued once (outbox/schedule.py)."""

    job = models.CharField(max_length=100)
    day = models.DateField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-day", "job"]
        constraints = [models.UniqueConstraint(fields=["job", "day"], name="outbox_one_run_per_job_and_day")]

    def __str__(self):
        return f"{self.job} on {self.day}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being prepared"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class BackgroundExport(models.Model):
    """A file prepared by a background task for the person who asked for it (outbox/exports.py): a large
    export that would outlast a request. The file lives in the database, in ExportChunk rows, because the
    app servers keep no files of their own; only its owner downloads it, until it expires."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="background_exports"
    )
    # What it is, for the owner's list and the audit trail ("FHIR Bulk Data, the whole clinic").
    kind = models.CharField(max_length=100)
    description = models.CharField(max_length=300)
    # The function that writes the file (dotted path) and its keyword arguments.
    function = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict, blank=True)
    # The roles that may download it, checked again at download (a manager made front desk since cannot).
    roles = models.JSONField(default=list)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    # What the function said it wrote ("Patient 120, Encounter 3400..."), for the list and the audit.
    summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Updated with each chunk written: a running export whose heartbeat stops was left by a dead worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "kind"], name="outbox_export_owner"),
            models.Index(fields=["status", "expires_at"], name="outbox_export_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="done")
                | models.Q(size__isnull=False, expires_at__isnull=False, finished_at__isnull=False)
                & ~models.Q(sha256=""),
                name="outbox_export_done_has_file",
            )
        ]

    def __str__(self):
        return f"{self.description} ({self.get_status_display()})"


class ExportChunk(models.Model):
    """One piece of a background export's file, in order: written as the file is produced, so neither the
    worker nor the download holds the whole file in memory, and no value nears PostgreSQL's 1 GB limit."""

    export = models.ForeignKey(BackgroundExport, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "number"], name="outbox_one_chunk_per_number")
        ]

    def __str__(self):
        return f"chunk {self.number} of export {self.export_id}"
