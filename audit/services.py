"""The one call every app uses to leave an audit event, and the chain check behind verify_audit."""

import ipaddress
from datetime import UTC

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Action, AuditEvent

# Serialises writers so that each row links to the row committed just before it.
CHAIN_LOCK = 0x1A5C11
MAX_USER_AGENT = 300


def client_ip(request):
    """The client's address. X-Forwarded-For is believed only as far as our own proxies wrote it: each of
    the TRUSTED_PROXY_COUNT proxies in front of the app appends the address it saw, so the client's is
    that many entries from the right; anything further left was sent by the client and may be forged
    (it would let anyone choose the address the audit trail records). With no proxy, REMOTE_ADDR."""
    proxies = settings.TRUSTED_PROXY_COUNT
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if proxies > 0 and forwarded:
        candidate = forwarded[-min(proxies, len(forwarded))]
    else:
        candidate = request.META.get("REMOTE_ADDR", "")
    try:
        # PostgreSQL's inet hands addresses back in this form; hashing it keeps the chain verifiable.
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        return None


def record(
    action, *, request=None, user=None, obj=None, object_type="", object_id="", patient_id=None, detail=""
):
    """Append one audit event: who (user or request.user), what, on which object and patient, from where.

    Refuses an action that is not one of audit.models.Action.
    """
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    event = AuditEvent(
        at=timezone.now().astimezone(UTC),
        actor=user,
        actor_email=getattr(user, "email", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        patient_id=patient_id,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT] if request is not None else ""),
        detail=detail,
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event.previous_hash = last or AuditEvent.GENESIS
        event.hash = event.compute_hash(event.previous_hash)
        event.save(force_insert=True)
    return event


def first_broken_event(batch_size=5000):
    """Walk the chain in order; return (event, reason) for the first row that does not hold, or None."""
    expected_previous = AuditEvent.GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.previous_hash != expected_previous:
            return event, "its link to the previous row does not match (a row was removed or re-linked)"
        if event.compute_hash(event.previous_hash) != event.hash:
            return event, "its content does not match its hash (the row was altered)"
        expected_previous = event.hash
    return None
