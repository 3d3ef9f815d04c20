"""Does the local PostgreSQL keep every write it acknowledged? Crash it under writers, and count.

    .venv/bin/python bench/crash_durability.py                   both clusters' settings, 3 rounds each
    .venv/bin/python bench/crash_durability.py --cluster run --writers 3 --seconds 5 --rounds 1 --json

Builds a scratch cluster under var/scratch/ (removed afterwards; --var DIR uses and keeps DIR instead)
with the settings localdb gives the run cluster, the one `make run` keeps the clinic's records in
(--cluster test: the throwaway test cluster's), creates the two roles and migrates. Then, each round:
`--writers` processes register patients through patients.services.register_patient as the app role,
each printing a patient's id once its commit has returned (acknowledged); after `--seconds` the server
is killed with `pg_ctl stop -m immediate` (its processes quit at once: no checkpoint, nothing in its
memory written out); it is started again (crash recovery), and every acknowledged patient is looked for.

What it can and cannot show: an immediate stop kills PostgreSQL, not the machine, so WAL already handed
to the operating system survives it. It shows that no commit is acknowledged before its WAL has left
PostgreSQL's memory (synchronous_commit=on). fsync and full_page_writes guard the same writes against
a power cut or a kernel crash, which a test cannot cause; the run cluster has all three on.

`make bench` runs it with the others (it ignores DATABASE_URL: it crashes only its own scratch cluster);
tests/clinic/test_durability.py runs one round on the run cluster's settings.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import localdb  # noqa: E402

DESK_EMAIL = "crash-test-desk@demo.imsclinic.test"
CREATE_DESK = f"""
from accounts.models import Role, User
User.objects.filter(email={DESK_EMAIL!r}).exists() or User.objects.create_user(
    {DESK_EMAIL!r}, None, full_name="Crash test front desk", role=Role.FRONT_DESK)
"""


def writer(number):
    """One writer (a child process): register patients until the database goes away."""
    from datetime import date, timedelta
    from types import SimpleNamespace

    import django

    django.setup()
    from django.db import DatabaseError, transaction

    from accounts.models import User
    from patients.models import Patient
    from patients.services import register_patient

    request = SimpleNamespace(user=User.objects.get(email=DESK_EMAIL), META={"REMOTE_ADDR": "127.0.0.1"})
    run = uuid.uuid4().hex[:8]  # names differ from every earlier round's, so none is a possible duplicate
    count = 0
    while True:
        count += 1
        patient = Patient(
            given_name=f"Writer{number}",
            family_name=f"Crash{run}{count:07d}",
            date_of_birth=date(1950, 1, 1) + timedelta(days=count % 20000),
        )
        try:
            with transaction.atomic():
                register_patient(patient, request=request)
        except DatabaseError:
            return
        # The commit has returned: the clinic was told this patient is registered.
        print(patient.pk, flush=True)


def prepare(cluster):
    """Start the cluster (creating it and its roles on first use), migrate, make the writers' user."""
    localdb.start(cluster)
    env = {**os.environ, **localdb.environment(cluster), "DEBUG": "1"}
    for command in (["migrate", "-v", "0"], ["shell", "-v", "0", "-c", CREATE_DESK]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    return env


def crash_round(cluster, env, writers, seconds):
    """One round: writers, a crash after `seconds`, recovery; (acknowledged, missing) patient ids."""
    acknowledged = set()
    lock = threading.Lock()

    def collect(stream):
        for line in stream:
            with lock:
                acknowledged.add(int(line))

    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--writer", str(number)],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
            stdout=subprocess.PIPE,
            text=True,
        )
        for number in range(writers)
    ]
    readers = [threading.Thread(target=collect, args=(child.stdout,)) for child in children]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < writers and time.monotonic() < deadline:
        if all(child.poll() is not None for child in children):
            sys.exit("crash_durability: every writer stopped before the crash; see their errors above")
        time.sleep(0.05)
    time.sleep(seconds)
    localdb.stop(cluster, mode="immediate")
    for child in children:
        child.wait(timeout=60)
    for reader in readers:
        reader.join()
    localdb.start(cluster)
    import psycopg

    with psycopg.connect(cluster.url(localdb.SUPERUSER)) as conn:
        found = conn.execute("SELECT id FROM patients_patient WHERE id = ANY(%s)", [sorted(acknowledged)])
        present = {row[0] for row in found}
    return acknowledged, acknowledged - present


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cluster", choices=["run", "test", "both"], default="both")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--var", help="the scratch var folder to use and keep (default: a new one, removed)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per round")
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer is not None:
        return writer(args.writer)

    scratch = ROOT / "var" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    var = Path(args.var) if args.var else Path(tempfile.mkdtemp(prefix="crash-", dir=scratch))
    kinds = ["run", "test"] if args.cluster == "both" else [args.cluster]
    missing_total = 0
    try:
        for kind in kinds:
            cluster = localdb.Cluster(kind, var)
            env = prepare(cluster)
            settings = ", ".join(f"{name}={value}" for name, value in cluster.durability.items())
            for number in range(1, args.rounds + 1):
                acknowledged, missing = crash_round(cluster, env, args.writers, args.seconds)
                missing_total += len(missing) if kind == "run" else 0
                if args.json:
                    figures = {"cluster": kind, "acknowledged": len(acknowledged), "missing": len(missing)}
                    print(json.dumps(figures), flush=True)
                else:
                    print(
                        f"{kind} cluster ({settings}), round {number}: {args.writers} writers, crash after "
                        f"{args.seconds:g} s: {len(acknowledged)} registrations acknowledged, "
                        f"{len(missing)} missing after recovery",
                        flush=True,
                    )
            if not args.var:
                localdb.stop(cluster)
    finally:
        if not args.var:
            for kind in kinds:
                localdb.stop(localdb.Cluster(kind, var), mode="immediate")
            shutil.rmtree(var, ignore_errors=True)
    # Only the durable cluster promises anything; the throwaway one is there to show the difference.
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
