import hashlib
import json

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "View"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    ARCHIVE = "archive", "Archive"
    PRINT = "print", "Print"
    EXPORT = "export", "Export"
    SIGN = "sign", "Sign"
    WITHDRAW = "withdraw", "Withdraw"
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    LOGIN_FAILED = "login_failed", "Login failed"
    PERMISSION_DENIED = "permission_denied", "Permission denied"
    PASSWORD_RESET = "password_reset", "Password reset"
    SEND = "send", "Send"
    RESTORE = "restore", "Restore"
    PUBLISH = "publish", "Publish"
    BOOK = "book", "Book"
    RESCHEDULE = "reschedule", "Reschedule"
    CANCEL = "cancel", "Cancel"
    CHECK_IN = "check_in", "Check in"
    NO_SHOW = "no_show", "No-show"
    STATUS = "status", "Status change"
    ADDENDUM = "addendum", "Addendum"
    MFA_ENROL = "mfa_enrol", "Second factor enrolled"
    MFA_VERIFY = "mfa_verify", "Second factor passed"
    MFA_RESET = "mfa_reset", "Second factor reset"
    SESSION_END = "session_end", "Session ended"
    BREAK_GLASS = "break_glass", "Chart opened by breaking the glass"


class AuditEvent(models.Model):
    """One thing somebody did or tried. Append-only (a trigger refuses UPDATE and DELETE) and chained:
    each row's hash covers its content and the previous row's hash, so an edit made behind the
    trigger's back breaks the chain at that row (`manage.py verify_audit`)."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # A plain integer rather than a foreign key: audit is called by every app and depends on none.
    patient_id = models.BigIntegerField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["patient_id", "-id"], name="audit_patient_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or 'anonymous'} {self.action} {self.object_type}"

    GENESIS = "0" * 64

    def canonical(self):
        """The row's content as the hash sees it: every field but the hashes themselves."""
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "actor": self.actor_id,
                "actor_email": self.actor_email,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "patient_id": self.patient_id,
                "ip_address": self.ip_address,
                "user_agent": self.user_agent,
                "detail": self.detail,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self, previous_hash):
        return hashlib.sha256((previous_hash + "\n" + self.canonical()).encode()).hexdigest()
