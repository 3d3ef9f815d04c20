"""The manager's dashboards at benchmark size: server time for a year, per figure and for the whole page.

    DATABASE_URL="postgresql://postgres@/bench_reports?host=$PWD/var/test/run" \
        .venv/bin/python bench/reports_dashboard.py [--patients 100000] [--repeat 5]

Creates the database named in DATABASE_URL if it is missing, migrates it, and loads (once; later runs
reuse it) the demo clinic through `seed_demo --size` (100,000 patients by default): the same generator
as `make run` and the scorecard's clinic database, so benchmark-size data is made one way only. Drop a
database the former generator of this script loaded (bench-physio* users) first: the seed would add its
clinic beside those rows.

It then times, for the last 365 days: each query function of reports/services.py, and the whole GET of
/reports/ and /reports/safety/ through Django's test client (access check, session, form, queries,
charts, template, audit event), as a manager and as an administrator (who also gets the list of
sessions without matching consent).
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from _common import prepare_database, timed  # noqa: E402


def load(patients):
    """The demo clinic at benchmark size, made by the one generator there is: `seed_demo --size`, as `make
    run` and the scorecard's clinic database are (idempotent: a database already loaded keeps its rows)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", size=patients, quiet=True)
    print(f"seed_demo --size {patients}: {time.perf_counter() - started:.0f}s", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    from django.test import Client
    from django.utils import timezone

    from accounts.models import Role, User
    from appointments.models import Appointment
    from reports import services
    from reports.filters import ReportFilter
    from treatments.models import NeedlePoint, NeedlingSession

    load(args.patients)
    print(
        f"\n{Appointment.objects.count():,} appointments, {NeedlingSession.objects.count():,} sessions, "
        f"{NeedlePoint.objects.count():,} needle points\n"
    )
    today = timezone.localdate()
    year = ReportFilter(today - timedelta(days=364), today)
    in_year = NeedlingSession.objects.filter(started_at__gte=year.starts_at, started_at__lt=year.ends_before)
    # One of the seed's physiotherapists with sessions in the year, for the one-therapist figures.
    therapist = User.objects.get(pk=in_year.order_by("clinician_id").values("clinician_id")[:1])
    one_therapist = ReportFilter(year.start, year.end, therapist)
    print(f"the year {year.start} to {year.end}: {in_year.count():,} sessions\n")

    print("| what | median ms | worst ms |")
    print("|---|---|---|")
    for label, run in [
        ("activity() (appointments + sessions per period and therapist)", lambda: services.activity(year)),
        ("needling() (points per session, muscles, regions, twitch, pain)", lambda: services.needling(year)),
        ("consent_coverage()", lambda: services.consent_coverage(year)),
        ("consent_coverage(list_sessions=True)", lambda: services.consent_coverage(year, list_sessions=True)),
        ("safety()", lambda: services.safety(year)),
        (
            "all four, one therapist",
            lambda: [
                services.activity(one_therapist),
                services.needling(one_therapist),
                services.consent_coverage(one_therapist),
                services.safety(one_therapist),
            ],
        ),
    ]:
        median, worst = timed(run, args.repeat, worst=True)
        print(f"| {label} | {median:.0f} | {worst:.0f} |", flush=True)

    def page(role, path):
        email = f"bench-{role}@clinic.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, None, full_name=f"Bench {role}", role=role
        )
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        from _common import pass_second_factor

        pass_second_factor(client, user)
        query = {"start": year.start.isoformat(), "end": year.end.isoformat()}

        def run():
            response = client.get(path, query)
            assert response.status_code == 200, response.status_code

        return run

    for role in (Role.MANAGER, Role.ADMIN):
        for path in ("/reports/", "/reports/safety/"):
            median, worst = timed(page(role, path), args.repeat, worst=True)
            print(f"| GET {path} for a year, {role} | {median:.0f} | {worst:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
