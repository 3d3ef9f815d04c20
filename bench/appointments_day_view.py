"""The front desk's day view at 1.2M appointments: server time per request, indexed vs. a scan, same run.

    DATABASE_URL="postgresql://postgres@/bench_appointments?host=$PWD/var/test/run" \
        .venv/bin/python bench/appointments_day_view.py [--size 100000] [--repeat 20]

Creates the database named in DATABASE_URL if it is missing, migrates it, loads demo staff, --size demo
patients (patients/demo.py, COPY) and 12 appointments per patient (appointments/demo.py, one
INSERT ... SELECT), then times GET /appointments/?date=<today>&location=<main> (one location's ten
physiotherapists, their working hours and the day's appointments) through Django's test client, and the
schedule query alone (appointments.selectors.day_schedule). The baseline runs the same code with the
planner forbidden to use indexes, so PostgreSQL reads every appointment to find one day's.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

from _common import prepare_database, timed  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000, help="patients (12 appointments each)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    import random

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts import demo as accounts_demo
    from accounts.management.commands.seed_demo import DEMO_SEED, Demo
    from accounts.models import Role, User
    from appointments import demo as appointments_demo
    from appointments.models import Appointment, Location
    from appointments.selectors import day_schedule
    from patients.demo import add_patients

    class Lines:
        def write(self, message):
            print(message)

    demo = Demo(size=args.size, rng=random.Random(DEMO_SEED), stdout=Lines())
    accounts_demo.seed(demo)
    started = time.perf_counter()
    added = add_patients(args.size)
    if added:
        print(f"loaded {added} patients in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    appointments_demo.seed(demo)
    print(f"appointments seed: {time.perf_counter() - started:.1f}s")
    total = Appointment.objects.count()
    today = timezone.localdate()
    main_location = Location.objects.order_by("pk").first()
    columns = day_schedule(today, location=main_location)
    on_the_day = sum(len(appointments) for _, appointments, _ in columns)

    desk = User.objects.filter(email="bench-desk@clinic.test").first() or User.objects.create_user(
        "bench-desk@clinic.test", None, full_name="Bench Desk", role=Role.FRONT_DESK
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(desk)
    from _common import pass_second_factor

    pass_second_factor(client, desk)
    query = {"date": today.isoformat(), "location": main_location.pk}

    def run_view():
        response = client.get("/appointments/", query)
        assert response.status_code == 200, response.status_code

    def run_schedule():
        for _person, appointments, _blocks in day_schedule(today, location=main_location):
            list(appointments)

    def unindexed(run):
        def wrapped():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute("SET LOCAL enable_indexonlyscan = off")
                run()

        return wrapped

    with CaptureQueriesContext(connection) as queries:
        run_view()
    print(
        f"\n{total} appointments; the day view of {today} at {main_location.name}: {len(columns)} "
        f"physiotherapists, {on_the_day} appointments, {len(queries.captured_queries)} queries. "
        f"{args.repeat} runs each; times in ms (median / p95)\n"
    )
    print("| measured | indexed | unindexed scan | ratio |")
    print("|---|---|---|---|")
    for label, run in (("schedule queries (day_schedule)", run_schedule), ("whole request (GET)", run_view)):
        indexed, indexed_p95 = timed(run, args.repeat)
        scan, scan_p95 = timed(unindexed(run), max(3, args.repeat // 4))
        print(
            f"| {label} | {indexed:.1f} / {indexed_p95:.1f} | {scan:.1f} / {scan_p95:.1f} "
            f"| {scan / indexed:.0f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
