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
