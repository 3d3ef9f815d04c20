import hashlib
import json

from django.conf import settings
from django.db import models

from . import keys


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
    each row's hash is an HMAC, under a key the database does not hold, of its content and the previous
    row's hash, so an edit made behind the trigger's back breaks the chain at that row and cannot be
    hidden by recomputing the hashes after it (`manage.py verify_audit`). Rows from before keyed hashing
    (key_id 0) keep their plain SHA-256."""

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
    # Which of settings.AUDIT_HMAC_KEYS signed the row (audit/keys.py); 0 for plain SHA-256 rows.
    key_id = models.SmallIntegerField()

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
        """The row's content as the hash sees it: every field but the hashes and the key id."""
        return canonical(
            at=self.at,
            actor=self.actor_id,
            actor_email=self.actor_email,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            patient_id=self.patient_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            detail=self.detail,
        )

    def compute_hash(self, previous_hash):
        """The hash this row must carry after `previous_hash`, under the key its key_id names (UnknownKey
        when this server lacks that key)."""
        return chain_hash(self.key_id, previous_hash, self.canonical())


# The fields canonical() covers, in the order verify_audit reads them (audit.services.verify_chain).
CANONICAL_FIELDS = (
    "at",
    "actor",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "ip_address",
    "user_agent",
    "detail",
)


# json.dumps(sort_keys=True, separators=(",", ":")) builds this encoder on every call; one will do.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical(**fields):
    """One row's content as JSON with sorted keys: what the hash covers. Unchanged since the first row,
    so that every row ever written still verifies."""
    fields["at"] = fields["at"].isoformat()
    return _CANONICAL_JSON.encode(fields)


def chain_hash(key_id, previous_hash, content):
    """The hash of a row with canonical `content` after `previous_hash`: plain SHA-256 for legacy rows
    (key id 0), else HMAC-SHA256 under that key, over the key id too so a row cannot claim another key."""
    if key_id == keys.LEGACY_KEY_ID:
        return hashlib.sha256((previous_hash + "\n" + content).encode()).hexdigest()
    return keys.sign(key_id, f"audit event\n{key_id}\n{previous_hash}\n{content}")
