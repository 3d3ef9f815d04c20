"""What an intruder with the audit table owner's rights can do behind the append-only trigger's back.

Each helper runs on the test's own connection, inside its transaction: these need the table owner (or a
superuser), which the application's own database role is not.
"""

import hashlib

from django.db import connection

from audit.models import AuditEvent


def tamper(sql, params=()):
    """Run `sql` with the append-only trigger switched off, as the table owner can."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred FK checks would block ALTER TABLE
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def empty_the_table():
    """TRUNCATE the trail: no row trigger fires, and the table owner may."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending FK checks would block TRUNCATE
        cursor.execute("TRUNCATE audit_auditevent")


def legacy_hash(row, previous_hash):
    """The plain SHA-256 every row carried before keyed hashing: anyone can compute it."""
    return hashlib.sha256((previous_hash + "\n" + row.canonical()).encode()).hexdigest()


def rewrite_from(event_id, *, detail, rehash):
    """Change the detail of event `event_id`, then recompute the hash of it and of every later row with
    `rehash(row, previous_hash) -> (key_id, hash)`, so that each link matches again: the forgery that a
    plain hash chain cannot show."""
    previous = (
        AuditEvent.objects.filter(id__lt=event_id).order_by("-id").values_list("hash", flat=True).first()
    )
    previous = previous or AuditEvent.GENESIS
    for row in AuditEvent.objects.filter(id__gte=event_id).order_by("id"):
        if row.pk == event_id:
            row.detail = detail
        key_id, new_hash = rehash(row, previous)
        tamper(
            "UPDATE audit_auditevent SET detail = %s, previous_hash = %s, hash = %s, key_id = %s "
            "WHERE id = %s",
            [row.detail, previous, new_hash, key_id, row.pk],
        )
        previous = new_hash
