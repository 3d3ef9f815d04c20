"""The audit chain's lock under concurrent writers: held for the insert only, or for the whole transaction.

    DATABASE_URL="postgresql://postgres@/bench_audit_lock?host=$PWD/var/test/run" \
        .venv/bin/python bench/audit_lock.py [--writers 8] [--transactions 10] [--work-ms 50]

Each of --writers threads (one connection each) runs --transactions transactions that record an audit
event first and then do --work-ms of unrelated work (pg_sleep) before committing: the shape of a
service that audits early. Measured twice in the same run:

- *audited_transaction()*: record() holds the event and inserts it as the block ends, so the chain's
  lock is held for the insert and the commit only;
- *plain transaction.atomic()* (the baseline, what record() did before): the event is inserted at once
  and the lock is held until the transaction commits, so the writers run one after another.

Prints what one record() costs with no other writer, then for each way the wall time for all
transactions, transactions per second, and how long a separate short writer (one record() on its own,
every 20 ms meanwhile) waited, median and worst. The chain is verified afterwards
(audit.services.verify_chain).
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from _common import prepare_database, timed  # noqa: E402


def run(block, writers, transactions, work_seconds):
    from django.db import connection

    from audit.models import Action
    from audit.services import record

    def writer(number):
        try:
            for n in range(transactions):
                with block():
                    record(Action.UPDATE, object_type="bench", object_id=f"{number}-{n}", detail="long")
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(%s)", [work_seconds])
        finally:
            connection.close()

    waits, done = [], threading.Event()

    def short_writer():
        try:
            while not done.is_set():
                started = time.perf_counter()
                record(Action.VIEW, object_type="bench", detail="short")
                waits.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    probe = threading.Thread(target=short_writer)
    started = time.perf_counter()
    probe.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    probe.join()
    return elapsed, waits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--transactions", type=int, default=10)
    parser.add_argument("--work-ms", type=float, default=50)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    from django.db import transaction

    from audit.services import audited_transaction, verify_chain

    total = args.writers * args.transactions
    print(
        f"{args.writers} writers x {args.transactions} transactions, each: record(), then "
        f"{args.work_ms:g} ms of other work, then commit; a short writer records every 20 ms meanwhile"
    )
    from audit.models import Action
    from audit.services import record

    alone, alone_tail = timed(
        lambda: record(Action.VIEW, object_type="bench", detail="alone"), 50, worst=True
    )
    print(f"one record() with no other writer: {alone:.1f} ms median, {alone_tail:.1f} ms worst (50 runs)")
    print("| lock held for | wall time (s) | transactions/s | short writer waits, ms (median / worst) |")
    print("|---|---|---|---|")
    for label, block in (
        ("insert + commit (audited_transaction)", audited_transaction),
        ("whole transaction (plain atomic, baseline)", transaction.atomic),
    ):
        elapsed, waits = run(block, args.writers, args.transactions, args.work_ms / 1000)
        print(
            f"| {label} | {elapsed:.2f} | {total / elapsed:.0f} | "
            f"{statistics.median(waits):.1f} / {max(waits):.1f} |"
        )
    check = verify_chain()
    print(f"chain: {check.events} events, " + ("; ".join(check.problems) or "intact"))
    return 1 if check.problems else 0


if __name__ == "__main__":
    sys.exit(main())
