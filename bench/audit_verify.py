"""verify_audit and audit_checkpoint on a large audit trail: rows per second, and memory that stays flat.

    DATABASE_URL="postgresql://postgres@/bench_audit_verify?host=$PWD/var/test/run" \
        .venv/bin/python bench/audit_verify.py [--size 1000000]

Creates the database named in DATABASE_URL if it is missing, migrates it, and fills the audit trail up
to --size keyed events by COPY (chained and signed exactly as record() signs them; later runs reuse
them). Then times, in the same run:

- the full walk verify_audit makes (audit.services.verify_chain, streaming, every HMAC recomputed),
  with the process's peak memory before and after;
- audit_checkpoint's incremental walk: 1,000 new events after a checkpoint of the head;
- the baseline: reading the same rows with the same streaming query and computing nothing.
"""

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from _common import prepare_database  # noqa: E402

COLUMNS = (
    "at",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "patient_id",
    "ip_address",
    "user_agent",
    "detail",
    "previous_hash",
    "hash",
    "key_id",
)


def load(size):
    """Append keyed events by COPY until the trail holds `size`."""
    from django.db import connection

    from audit import keys
    from audit.models import AuditEvent, canonical, chain_hash

    have = AuditEvent.objects.count()
    if have >= size:
        return have
    previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or AuditEvent.GENESIS
    key_id = keys.current_key_id()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for n in range(have, size):
            fields = {
                "at": start + timedelta(seconds=n * 13),
                "actor": None,
                "actor_email": f"staff{n % 40}@clinic.test",
                "action": "view",
                "object_type": "patients.patient",
                "object_id": str(n % 100_000 + 1),
                "patient_id": n % 100_000 + 1,
                "ip_address": "10.0.0.7",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                "detail": "chart",
            }
            digest = chain_hash(key_id, previous, canonical(**fields))
            copy.write_row([fields[c] for c in COLUMNS[:9]] + [previous, digest, key_id])
            previous = digest
    connection.connection.commit()
    print(f"loaded {size - have:,} events by COPY in {time.perf_counter() - started:.1f} s")
    return size


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    from django.db import transaction

    from audit import keys
    from audit.checkpoints import Checkpoint
    from audit.models import CANONICAL_FIELDS, Action, AuditEvent
    from audit.services import audited_transaction, record, verify_chain

    load(args.size)
    before = peak_mib()
    started = time.perf_counter()
    check = verify_chain()
    walk = time.perf_counter() - started
    assert not check.problems, check.problems
    print(
        f"full walk (verify_audit): {check.events:,} events in {walk:.1f} s, {check.events / walk:,.0f} "
        f"events/s; peak memory {before:.0f} MiB before, {peak_mib():.0f} MiB after"
    )

    rows = AuditEvent.objects.order_by("id").values_list(
        "id", "previous_hash", "hash", "key_id", *CANONICAL_FIELDS
    )
    started = time.perf_counter()
    with transaction.atomic():
        read = sum(1 for _ in rows.iterator(chunk_size=5000))
    baseline = time.perf_counter() - started
    print(f"baseline, the same rows streamed, nothing computed: {read:,} in {baseline:.1f} s")

    head = Checkpoint(
        at=datetime.now(UTC),
        count=check.events,
        last_id=check.head_id,
        last_hash=check.head_hash,
        key_id=keys.current_key_id(),
    )
    with audited_transaction():
        for n in range(1000):
            record(Action.VIEW, object_type="bench", object_id=str(n))
    started = time.perf_counter()
    since = verify_chain(start=head)
    assert not since.problems, since.problems
    print(
        f"incremental walk (audit_checkpoint): {since.events - head.count:,} new events checked in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
