"""PgBouncer in transaction mode between the app servers and PostgreSQL (docs/architecture.md, "Growing
past one machine"): each transaction may run on another server connection, so nothing the app leaves on
a connection may outlive its transaction. With DB_TRANSACTION_POOLING=1 (no server-side cursors outside a
transaction, no prepared statements) real flows work through it: signing in with the second factor,
booking, a streamed CSV export and an XLSX one (a named cursor inside its transaction), and the
reminders command (.iterator()). .ci/run installs PgBouncer (Debian's package)."""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, Break
from audit.models import Action, AuditEvent
from tests.clinic.conftest import (
    Browser,
    app_url,
    free_port,
    gunicorn,
    load_script,
    localdb,
    manage,
    production_environment,
)
from tests.factories import (
    TEST_PASSWORD,
    AppointmentFactory,
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
    give_authenticator,
)

bouncer = load_script("pgbouncer")
POOL_SIZE = 2  # server connections PgBouncer may open to the test database, whatever the clients


@contextmanager
def pgbouncer(tmp_path, pool_size=POOL_SIZE):
    """scripts/pgbouncer.py's PgBouncer (transaction mode) in front of the test cluster on a free port.
    CI must have PgBouncer (.ci/run installs it), so there a missing one fails; elsewhere the test is
    skipped saying how to get it."""
    if bouncer.binary() is None:
        message = "PgBouncer is not installed: `apt-get install pgbouncer` (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sockets = urlparse(app_url()).query.split("host=", 1)[1].split("&")[0]
    with bouncer.running(
        tmp_path / "pgbouncer", sockets=sockets, port=free_port(), pool_size=pool_size
    ) as port:
        yield port


def through(port):
    """The app role's URL for this worker's test database, through PgBouncer."""
    return f"postgresql://{localdb.APP}@127.0.0.1:{port}/{connection.settings_dict['NAME']}"


def server_connections(database):
    with psycopg.connect(app_url(), autocommit=True) as direct:
        return direct.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = %s AND usename = %s AND pid <> pg_backend_pid()",
            [database, localdb.APP],
        ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_app_signs_in_books_and_exports_through_pgbouncer_in_transaction_mode(tmp_path):
    desk_user, manager_user = FrontDeskFactory(), ManagerFactory()
    manager_device = give_authenticator(manager_user)
    therapist = PhysioFactory()
    location = LocationFactory()
    for weekday in range(7):
        hours = WorkingHoursFactory(therapist=therapist, weekday=weekday, location=location)
        Break.objects.create(
            working_hours=hours, start=clock_time(12, 0), end=clock_time(12, 30), label="Lunch"
        )
    follow_up = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    patient = PatientFactory(email="pat@example.test")
    # Forty days of earlier appointments: the CSV export runs one COPY per window (1, 4, 16 ... days).
    today = timezone.localdate()
    for days in range(1, 41):
        AppointmentFactory(
            patient=PatientFactory(),
            therapist=therapist,
            type=follow_up,
            start=timezone.now().replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(days=days),
        )
    tomorrow = today + timedelta(days=1)
    database = connection.settings_dict["NAME"]

    with pgbouncer(tmp_path) as port:
        env = production_environment(through(port), STATIC_MANIFEST="0", DB_TRANSACTION_POOLING="1")
        with gunicorn(env, tmp_path, workers=4) as base:
            desk = Browser(base).sign_in(desk_user, TEST_PASSWORD)
            booked = desk.post(
                "/appointments/book/",
                {
                    "patient": patient.pk,
                    "therapist": therapist.pk,
                    "type": follow_up.pk,
                    "date": tomorrow.isoformat(),
                    "time": "09:00",
                },
            )
            assert booked.status == 302, booked.text[:800]
            assert Appointment.objects.filter(patient=patient, booked_by=desk_user).exists()

            manager = Browser(base).sign_in(manager_user, TEST_PASSWORD, manager_device)
            query = f"start={today - timedelta(days=45)}&end={today}"
            csv = manager.get(f"/reports/exports/appointments/?{query}")
            assert csv.status == 200, csv.text[:800]
            assert len(csv.text.strip().splitlines()) == 1 + 40
            xlsx = manager.get(f"/reports/exports/appointments/?{query}&file_format=xlsx")
            assert xlsx.status == 200 and xlsx.headers["Content-Type"].startswith("application/vnd.openxml")
            # Many pages at once, so that several workers serve (one after another, a single worker could
            # answer them all), yet never more than POOL_SIZE server connections.
            pages = [(desk, "/appointments/"), (manager, f"/reports/?{query}")] * 8
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(lambda page: page[0].get(page[1]).status, pages))
            assert statuses == [200] * len(pages)
            clients = [row for row in bouncer.console(port, "SHOW CLIENTS") if row["database"] == database]
            assert len(clients) >= 3, clients  # each worker that served keeps its connection to PgBouncer
            servers = server_connections(database)
            assert servers <= POOL_SIZE
            print(f"PgBouncer: {len(clients)} client connections served by {servers} server connections")

        # The reminders walk appointments with .iterator(): with DB_TRANSACTION_POOLING a plain cursor.
        manage("send_reminders", env=env)

    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_session_setting_one_client_makes_does_not_reach_another_on_the_same_server_connection(tmp_path):
    """Django sets the connection's time zone when it connects (SET TIME ZONE, outside a transaction).
    PgBouncer tracks TimeZone per client and sets each client's own before handing it a server
    connection, so with one server connection for both, neither sees the other's."""
    with (
        pgbouncer(tmp_path, pool_size=1) as port,
        psycopg.connect(through(port), autocommit=True) as first,
        psycopg.connect(through(port), autocommit=True) as second,
    ):
        first.execute("SET TIME ZONE 'America/Vancouver'")
        second.execute("SET TIME ZONE 'UTC'")
        pids = {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in (first, second)}
        assert len(pids) == 1, "one server connection for both clients"
        assert first.execute("SHOW TimeZone").fetchone()[0] == "America/Vancouver"
        assert second.execute("SHOW TimeZone").fetchone()[0] == "UTC"


SESSION_STATE = re.compile(
    r"pg_advisory_lock\(|pg_try_advisory_lock\(|\bLISTEN\b|\bWITH HOLD\b|\bSET SESSION\b", re.I
)


def test_the_app_keeps_nothing_on_a_connection_past_its_transaction():
    """Transaction pooling forbids session-level state: session advisory locks (the transaction-scoped
    pg_advisory_xact_lock is fine), LISTEN, WITH HOLD cursors, SET SESSION. None in the app's code."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    packages = [top for top in root.iterdir() if (top / "__init__.py").exists() and top.name != "tests"]
    assert {"clinic", "reports", "audit"} <= {package.name for package in packages}
    for path in (path for package in packages for path in package.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SESSION_STATE.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
