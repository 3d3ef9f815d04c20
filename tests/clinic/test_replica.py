"""Reports and exports from a streaming replica (DATABASE_REPLICA_URL; clinic/replica.py), against a real
one: a scratch primary under var/scratch/, and a standby made from it with pg_basebackup -R, both from the
embedded PostgreSQL's own binaries.

What a manager sees: figures from the replica while it is at most DATABASE_REPLICA_MAX_LAG seconds behind;
past that (replay stopped, or a replica that cannot be reached) the same page from the primary, so never
figures older than the limit. The export's audit event is written on the primary either way."""

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.clinic.conftest import ROOT, command_environment, localdb, manage

pytestmark = pytest.mark.xdist_group("replica")

# Run in the app's own process (manage.py shell) against the scratch clusters: the manager downloads the
# appointments export and opens the dashboard; the output says what they got, where each of the two views
# chose to read ("reads_from": the alias when each chose once and both the same) and the lag the export
# measured.
AS_MANAGER = """
import json
import os
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import User
from clinic import replica

chosen, lags = [], []
measure, choose = replica.replica_lag, replica.choose_reading_database


def measured(*args, **kwargs):
    try:
        lags.append(measure(*args, **kwargs))
    except Exception:
        lags.append("unreachable")
        raise
    return lags[-1]


def recorded():
    chosen.append(choose())
    return chosen[-1]


book_first = os.environ.get("BOOK_BEFORE_EXPORT")
replica.replica_lag, replica.choose_reading_database = measured, recorded
manager = User.objects.get(email="manager@demo.imsclinic.test")
device = TOTPDevice.objects.filter(user=manager, confirmed=True).first()
client = Client()
client.get("/hello")  # the middleware and URLconf are loaded before the manager signs in
if book_first:  # a booking on the primary (one transaction) the moment before the manager signs in
    from django.db import transaction

    with transaction.atomic():
        exec(book_first, {})
client.force_login(manager)
session = client.session
session[DEVICE_ID_SESSION_KEY] = device.persistent_id
session.save()
today = timezone.localdate()
span = {"start": today - timedelta(days=400), "end": today + timedelta(days=400)}
export = client.get("/reports/exports/appointments/", span)
export_chose = chosen[:]
lines = b"".join(export.streaming_content).decode().strip().splitlines() if export.status_code == 200 else []
dashboard = client.get("/reports/", span)
reads = {"export": export_chose, "dashboard": chosen[len(export_chose):]}
if len(chosen) == 2 and chosen[0] == chosen[1]:
    reads = chosen[0]
print(json.dumps({"export": export.status_code, "rows": len(lines) - 1, "dashboard": dashboard.status_code,
                  "reads_from": reads, "lag": (lags or [None])[0]}))
"""

# A new appointment on the primary, as the front desk would book it.
BOOK = """
import uuid
from datetime import timedelta
from django.utils import timezone
from appointments.models import AppointmentType, Location
from tests.factories import AppointmentFactory, PatientFactory, PhysioFactory
mark = uuid.uuid4().hex[:12]
AppointmentFactory(
    patient=PatientFactory(family_name=f"Booked-{mark}"),
    therapist=PhysioFactory(
        email=f"physio-{mark}@clinic.test", clinician_profile__registration_number=f"PT-{mark}"
    ),
    type=AppointmentType.objects.order_by("pk").first(),
    location=Location.objects.order_by("pk").first(),
    start=timezone.now().replace(microsecond=0) + timedelta(days=3),
)
"""


class Clusters:
    def __init__(self, var):
        self.var = var
        self.primary = localdb.Cluster("test", var)
        self.replica_home = var / "replica"
        self.replica_data = self.replica_home / "postgres"
        self.replica_sockets = self.replica_home / "run"
        self.env = command_environment(
            DEBUG="1",
            LOCALDB_VAR=var,
            ALLOWED_HOSTS="testserver",
            AUDIT_CHECKPOINT_DIR=var / "audit-checkpoints",
            **localdb.environment(self.primary),
        )

    def replica_url(self, role=localdb.APP):
        return f"postgresql://{role}@/{localdb.DB_NAME}?host={self.replica_sockets}"

    def on_replica(self, sql):
        with psycopg.connect(self.replica_url(localdb.SUPERUSER), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchone() if cursor.description else None

    def on_primary(self, sql):
        with psycopg.connect(self.primary.url(localdb.SUPERUSER), autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    def as_manager(self, max_lag, book_first=False):
        env = {
            **self.env,
            "DATABASE_REPLICA_URL": self.replica_url(),
            "DATABASE_REPLICA_MAX_LAG": str(max_lag),
        }
        if book_first:
            env.update(BOOK_BEFORE_EXPORT=BOOK, PYTHONPATH=str(ROOT))
        return json.loads(manage("shell", "-v", "0", "-c", AS_MANAGER, env=env).strip().splitlines()[-1])

    def book(self):
        manage("shell", "-v", "0", "-c", BOOK, env={**self.env, "PYTHONPATH": str(ROOT)})

    def exports_audited(self):
        return self.on_primary("SELECT count(*) FROM audit_auditevent WHERE action = 'export'")[0]

    def caught_up(self, timeout=30):
        """Seconds until the replica has replayed everything the primary has written."""
        target = self.on_primary("SELECT pg_current_wal_insert_lsn()::text")[0]
        started = time.monotonic()
        while self.on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0] is not True:
            assert time.monotonic() - started < timeout, "the replica did not catch up"
            time.sleep(0.01)
        return time.monotonic() - started

    def pg_ctl(self, *args):
        localdb.pg(
            [localdb.bin_path("pg_ctl"), "-D", str(self.replica_data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
def clusters():
    """A migrated, seeded primary and a streaming replica of it, each on its own socket."""
    scratch = ROOT / "var" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    found = Clusters(Path(tempfile.mkdtemp(prefix="replica-", dir=scratch)))
    try:
        localdb.start(found.primary)
        manage("migrate", "-v", "0", env=found.env)
        manage("seed_demo", "--size", "3", "--quiet", env=found.env)
        manage("shell", "-v", "0", "-c", GIVE_MANAGER_AUTHENTICATOR, env=found.env)
        found.replica_home.mkdir()
        found.replica_sockets.mkdir()
        if localdb.as_root():
            localdb.open_path_for(found.replica_home)
            localdb.hand_over(found.replica_home, found.replica_sockets)
        # A base backup that writes the standby's settings (-R: standby.signal, primary_conninfo).
        localdb.pg(
            [localdb.bin_path("pg_basebackup"), "-h", str(found.primary.sockets), "-U", localdb.SUPERUSER]
            + ["-D", str(found.replica_data), "-R", "-X", "stream", "--checkpoint=fast"],
            check=True,
        )
        with (found.replica_data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"unix_socket_directories = '{found.replica_sockets}'\n")
        found.pg_ctl("-l", str(found.replica_home / "postgres.log"), "-w", "start")
        yield found
    finally:
        if (found.replica_data / "postmaster.pid").exists():
            found.pg_ctl("-m", "immediate", "stop")
        localdb.stop(found.primary, mode="immediate")
        shutil.rmtree(found.var, ignore_errors=True)


GIVE_MANAGER_AUTHENTICATOR = """
from accounts.models import User
from django_otp.plugins.otp_totp.models import TOTPDevice
TOTPDevice.objects.get_or_create(user=User.objects.get(email="manager@demo.imsclinic.test"), confirmed=True)
"""


def test_reports_read_from_a_fresh_replica_and_the_export_is_audited_on_the_primary(clusters):
    clusters.caught_up()
    audited = clusters.exports_audited()
    seen = clusters.as_manager(max_lag=60)
    assert seen["reads_from"] == "replica"
    assert seen["export"] == 200 and seen["dashboard"] == 200 and seen["rows"] > 0
    assert clusters.exports_audited() == audited + 1


def test_a_replica_a_moment_behind_after_a_quiet_spell_still_serves_the_reports(clusters):
    """A booking is written (one transaction) on a primary that had been quiet for longer than the limit,
    then the manager signs in and exports at once: the replica lacks only that moment's writes, though the
    last transaction it replayed is older than the limit (or, on a replica just started, unknown). Here it
    applies each commit 600 ms after it was made (recovery_min_apply_delay), as a busy machine may: the
    export waits for it, and its figures include the booking. (A booking made in several transactions could
    rightly be missing: the replica, level with the first, is less than the limit behind.)"""
    clusters.caught_up()
    before = clusters.as_manager(max_lag=60)["rows"]
    clusters.on_replica("ALTER SYSTEM SET recovery_min_apply_delay = '600ms'")
    clusters.on_replica("SELECT pg_reload_conf()")
    try:
        time.sleep(1.5)  # the quiet spell, longer than the 1-second limit below
        seen = clusters.as_manager(max_lag=1, book_first=True)
    finally:
        clusters.on_replica("ALTER SYSTEM RESET recovery_min_apply_delay")
        clusters.on_replica("SELECT pg_reload_conf()")
    assert seen["reads_from"] == "replica" and seen["rows"] == before + 1
    assert seen["export"] == 200 and seen["dashboard"] == 200
    print(f"the export waited {seen['lag'] * 1000:.0f} ms for the replica to replay the booking")


def test_a_replica_past_the_lag_limit_gives_way_to_the_primary(clusters):
    clusters.caught_up()
    before = clusters.as_manager(max_lag=60)["rows"]
    clusters.on_replica("SELECT pg_wal_replay_pause()")
    try:
        clusters.book()
        time.sleep(1.5)
        # Within a generous limit the replica answers, and its figures lack the newest booking.
        stale = clusters.as_manager(max_lag=3600)
        assert stale["reads_from"] == "replica" and stale["rows"] == before
        assert stale["lag"] > 1
        # Past the limit the same page comes from the primary, booking included.
        fresh = clusters.as_manager(max_lag=1)
        assert fresh["reads_from"] == "default" and fresh["rows"] == before + 1
    finally:
        clusters.on_replica("SELECT pg_wal_replay_resume()")
    took = clusters.caught_up()
    after = clusters.as_manager(max_lag=1)
    assert after["reads_from"] == "replica" and after["rows"] == before + 1
    print(f"replica caught up {took * 1000:.0f} ms after replay resumed")


def test_a_booking_reaches_the_replica_within_seconds(clusters):
    clusters.caught_up()
    clusters.book()
    took = clusters.caught_up(timeout=5)
    print(f"a booking replayed on the replica {took * 1000:.0f} ms after it committed on the primary")


def test_an_unreachable_replica_gives_way_to_the_primary(clusters):
    clusters.caught_up()
    rows = clusters.as_manager(max_lag=60)["rows"]
    clusters.pg_ctl("-m", "fast", "-w", "stop")
    try:
        seen = clusters.as_manager(max_lag=60)
        assert seen["reads_from"] == "default" and seen["lag"] == "unreachable"
        assert seen["export"] == 200 and seen["dashboard"] == 200 and seen["rows"] == rows
    finally:
        clusters.pg_ctl("-l", str(clusters.replica_home / "postgres.log"), "-w", "start")
