"""Import of a 100,000-row Jane patient export: the dry run and the confirmed import, timed apart.

    DATABASE_URL="postgresql://postgres@/bench_interop_import?host=$PWD/var/test/run" \
        .venv/bin/python bench/interop_import.py [--size 100000]
    make bench BENCH_ARGS="interop_import"

Creates the database named in DATABASE_URL if it is missing and migrates it, writes a Jane patient list of
--size rows (names, dates of birth, phones, e-mails, addresses, valid PHNs for most; about 1% of rows with
a bad PHN check digit or an unreadable date, which the dry run refuses) and runs the very code the import
page runs: interop.services.start_import (read, map, dry run: every row checked and staged, then matched
against the registry) and then confirm_import (the staged rows matched again, the new patients written by
one INSERT ... SELECT, the provenance rows by COPY, in one transaction with its audit events). Each run
writes new source ids, so it imports afresh. Beside each wall time, the CPU time of this process and of
the PostgreSQL backend serving it: on a machine shared with other work the wall time includes waiting
for a core, and their sum is what the step costs; the load average (1, 5, 15 minutes) is printed at the
start and the end. Run it several times back to back to import into a growing registry: the second run
finds the staging table emptied (and perhaps analyzed so) by the first, the state in which the dry run's
query once hung (docs/benchmarks.md).
"""

import argparse
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from _common import prepare_database  # noqa: E402

GIVEN = [
    "Amélie",
    "Kenji",
    "Wei",
    "Olivia",
    "Noah",
    "Sofia",
    "Liam",
    "Zoë",
    "Arjun",
    "Maya",
    "Lucas",
    "Aroha",
]
FAMILY = ["Tremblay", "Sato", "Chen", "Brown", "Wilson", "Rossi", "Nguyen", "Côté", "Singh", "Patel", "Roy"]


HEADER = ["Patient Number", "First Name", "Last Name", "Birth Date", "Sex", "Email", "Mobile Phone",
          "Address", "City", "Province", "Postal Code", "Health Number"]  # fmt: skip


def phn(rng):
    from patients.validators import phn_check_digit

    while True:
        first = "9" + "".join(rng.choice("0123456789") for _ in range(8))
        check = phn_check_digit(first)
        if check is not None:
            return first + str(check)


def jane_file(size, run):
    rng = random.Random(run)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(size):
        born = f"{rng.randint(1930, 2015)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        number = phn(rng) if rng.random() < 0.8 else ""
        if n % 100 == 0:
            number = number[:9] + str((int(number[9]) + 1) % 10) if number else "9000000011"
        if n % 100 == 50:
            born = "sometime"
        given = f"{rng.choice(GIVEN)}{chr(65 + rng.randint(0, 25))}{rng.randint(0, 999)}"
        writer.writerow([f"{run}-{n}", given, rng.choice(FAMILY), born, rng.choice(["Female", "Male", ""]),
                         f"p{n}.{run}@example.test", f"604-555-{rng.randint(0, 9999):04d}", f"{n} Main St",
                         "Vancouver", "BC", "V5K 0A1", number])  # fmt: skip
    return out.getvalue().encode()


def server_cpu():
    """CPU seconds the PostgreSQL backend serving this connection has used (user + system), read from
    /proc when the server runs on this machine (as the test cluster does); None otherwise."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_note(python, server):
    return f"Python CPU {python:.1f} s" + ("" if server is None else f", PostgreSQL CPU {server:.1f} s")


class Upload(io.BytesIO):
    name = "jane_patients.csv"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    from accounts.models import Role, User
    from interop.services import confirm_import, start_import
    from patients.models import Patient

    admin = User.objects.filter(email="bench-admin@clinic.test").first() or User.objects.create_user(
        "bench-admin@clinic.test", None, full_name="Bench Admin", role=Role.ADMIN
    )
    run = int(time.time())
    data = jane_file(args.size, run)
    on_file = Patient.objects.count()
    print(f"file: {args.size:,} rows, {len(data) / 1024 / 1024:.1f} MB; {on_file:,} patients on file")
    print("load average at the start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    # Wall time, and this process's CPU time beside it: on a machine shared with other work the two part,
    # and the CPU time shows how much of the wall time was waiting for a core (or for PostgreSQL).
    server = server_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    batch = start_import(patients_file=Upload(data), options={"date_order": "auto"}, by=admin)
    dry_run, dry_cpu = time.perf_counter() - started, time.process_time() - cpu
    dry_server = None if server is None else server_cpu() - server
    counts = batch.result["patients"]
    print(
        f"dry run (upload, read, check, stage, match): {dry_run:.1f} s "
        f"({cpu_note(dry_cpu, dry_server)}): {counts}"
    )
    server = server_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    batch = confirm_import(batch, by=admin)
    confirmed, confirmed_cpu = time.perf_counter() - started, time.process_time() - cpu
    confirmed_server = None if server is None else server_cpu() - server
    print(
        f"confirmed import (match the staged rows again, then the writes): {confirmed:.1f} s "
        f"({cpu_note(confirmed_cpu, confirmed_server)}): {batch.result['patients']}"
    )
    print("load average at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"total: {dry_run + confirmed:.1f} s (under 60 s: {'yes' if dry_run + confirmed < 60 else 'NO'})")
    return 0 if dry_run + confirmed < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
