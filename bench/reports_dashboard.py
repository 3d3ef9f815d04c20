"""The manager's dashboards at benchmark size: server time for a year, per figure and for the whole page.

    DATABASE_URL="postgresql://postgres@/bench_reports?host=$PWD/var/test/run" \
        .venv/bin/python bench/reports_dashboard.py [--patients 100000] [--repeat 5]

Creates the database named in DATABASE_URL if it is missing, migrates it, and loads (once; later runs
reuse it) 100,000 patients, 40 physiotherapists at 3 locations, 1.2M appointments over the last five
years, about 1M needling sessions with about 10M needle points, side effects at rates near the
published ones, and consents for 90% of patients. The rows are made by set-based SQL (INSERT ... SELECT
over generate_series) with triggers and foreign key checks off during the load (session_replication_role
= replica, this benchmark's own database only), then ANALYZEd.

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

THERAPISTS = 40
SLOTS_PER_DAY = 23  # 08:00 to 19:00, every 30 minutes
YEARS = 5


def insert_select(cursor, model, explicit, source, source_params=()):
    """INSERT INTO model's table every column: `explicit` {column: SQL expression, or (expression,
    [params])} over `source`, the rest as the model field's default (so columns the other apps add later
    still get a value). Parameters are bound in the order they appear in the statement."""
    quote = cursor.db.ops.quote_name

    def modulo(sql):  # the SQL here uses % as modulo; psycopg wants it doubled beside %s placeholders
        return sql.replace("%", "%%").replace("%%s", "%s")

    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        value = explicit.get(field.column)
        if value is None:
            default = field.get_default()
            values.append("%s")
            params.append(default() if callable(default) else default)
        elif isinstance(value, tuple):
            values.append(modulo(value[0]))
            params.extend(value[1])
        else:
            values.append(modulo(value))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {modulo(source)}"
    )
    cursor.execute(sql, params + list(source_params))


def load(patients):
    """Load the benchmark rows unless they are there already. Returns a dict of counts."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from appointments.models import Appointment, AppointmentType, Location
    from consent.models import ConsentForm, ConsentRecord, RiskDecision, RiskItem
    from patients.demo import add_patients
    from patients.models import Patient
    from treatments.models import Muscle, NeedlePoint, NeedleSize, NeedlingSession, SideEffect

    started = time.perf_counter()
    added = add_patients(patients)
    if added:
        print(f"loaded {added} patients in {time.perf_counter() - started:.0f}s", flush=True)
    if NeedlePoint.objects.exists():
        return
    physios = []
    for n in range(THERAPISTS):
        email = f"bench-physio{n}@clinic.test"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, None, full_name=f"Physio {n:02d}", role=Role.PHYSIO
        )
        physios.append(user.pk)
    locations = [Location.objects.get_or_create(name=name)[0].pk for name in ("Main clinic", "East", "North")]
    follow_up = AppointmentType.objects.get_or_create(name="IMS follow-up", defaults={"default_minutes": 30})[
        0
    ]
    first_patient = Patient.objects.order_by("id").values_list("id", flat=True)[:1][0]
    last_patient = Patient.objects.order_by("-id").values_list("id", flat=True)[:1][0]
    count = Patient.objects.count()
    assert last_patient - first_patient + 1 == count, "patient ids are expected to be contiguous"
    today = timezone.localdate()
    first_day = today - timedelta(days=365 * YEARS)
    days = (today - first_day).days + 1
    tz = settings.TIME_ZONE
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        step = time.perf_counter()
        # Appointments: each therapist's weekdays, 23 half-hour slots a day; patients spread so that no
        # patient is booked twice at once (the exclusion constraints still check every row).
        source = f"""(
            SELECT g, t, day, k,
                   timezone(%s, (day + time '08:00' + k * interval '30 minutes')) AS start_at,
                   {first_patient} + ((g::bigint * 7919) % {count}) AS patient_id
            FROM (SELECT ((d * {THERAPISTS} + t) * {SLOTS_PER_DAY} + k) AS g, t, %s::date + d AS day, k
                  FROM generate_series(0, {days - 1}) d, generate_series(0, {THERAPISTS - 1}) t,
                       generate_series(0, {SLOTS_PER_DAY - 1}) k) slots
            WHERE extract(isodow FROM day) < 6) s"""
        insert_select(
            cursor,
            Appointment,
            {
                "patient_id": "s.patient_id",
                "therapist_id": ("(%s::bigint[])[1 + s.t]", [physios]),
                "type_id": str(follow_up.pk),
                "location_id": (f"(%s::bigint[])[1 + s.t % {len(locations)}]", [locations]),
                "start": "s.start_at",
                "end": "s.start_at + interval '30 minutes'",
                "status": "CASE WHEN s.start_at > now() THEN 'booked' WHEN s.g % 100 < 5 THEN 'no_show' "
                "WHEN s.g % 100 < 10 THEN 'cancelled' ELSE 'completed' END",
                "cancel_reason": "CASE WHEN s.start_at <= now() AND s.g % 100 BETWEEN 5 AND 9 "
                "THEN 'Patient unwell' ELSE '' END",
                "created_at": "s.start_at - interval '7 days'",
                "updated_at": "s.start_at",
            },
            source,
            [tz, first_day],
        )
        print(f"appointments: {cursor.rowcount} in {time.perf_counter() - step:.0f}s", flush=True)
        step = time.perf_counter()
        explicit = {
            "patient_id": "a.patient_id",
            "clinician_id": "a.therapist_id",
            "started_at": "a.start",
            "pain_before": "3 + a.id % 7",
            "pain_after": "greatest(0, 3 + a.id % 7 - a.id % 5)",
            "needles_in": "NULL",
            "needles_out": "NULL",
            "created_at": "a.start",
            "updated_at": "a.start",
        }
        if any(f.column == "appointment_id" for f in NeedlingSession._meta.concrete_fields):
            explicit["appointment_id"] = "a.id"
        insert_select(
            cursor,
            NeedlingSession,
            explicit,
            f"{Appointment._meta.db_table} a WHERE a.status = 'completed' AND a.id % 10 <> 0",
        )
        print(f"sessions: {cursor.rowcount} in {time.perf_counter() - step:.0f}s", flush=True)
        step = time.perf_counter()
        safe = list(Muscle.objects.filter(risk_region="none").order_by("id").values_list("id", flat=True))
        every = list(Muscle.objects.order_by("id").values_list("id", flat=True))
        sizes = list(NeedleSize.objects.order_by("id").values_list("id", flat=True))
        # About 10 points a session (1 to 19); a third of sessions may include neck or mid back muscles.
        insert_select(
            cursor,
            NeedlePoint,
            {
                "session_id": "s.id",
                "order": "k",
                "muscle_id": (
                    f"CASE WHEN s.id % 3 = 0 THEN (%s::bigint[])[1 + (s.id * 31 + k * 17) % {len(every)}] "
                    f"ELSE (%s::bigint[])[1 + (s.id * 31 + k * 17) % {len(safe)}] END",
                    [every, safe],
                ),
                "side": "(ARRAY['L', 'R', 'B'])[1 + (s.id + k) % 3]",
                "needle_size_id": (f"(%s::bigint[])[1 + (s.id + k) % {len(sizes)}]", [sizes]),
                "depth_mm": "10 + k % 20",
                "insertions": "1 + k % 3",
                "twitch_response": "CASE WHEN (s.id + k) % 10 < 6 THEN 'none' "
                "WHEN (s.id + k) % 10 < 9 THEN 'single' ELSE 'multiple' END",
            },
            f"{NeedlingSession._meta.db_table} s, generate_series(1, 1 + (s.id * 7) % 19) k",
        )
        print(f"needle points: {cursor.rowcount} in {time.perf_counter() - step:.0f}s", flush=True)
        step = time.perf_counter()
        # Side effects near the published rates: bruising 8%, bleeding 5%, pain after 2%, and rarely worse.
        insert_select(
            cursor,
            SideEffect,
            {
                "session_id": "s.id",
                "type": "e.type",
                "severity": "e.severity",
                "recorded_at": "s.started_at",
            },
            f"""{NeedlingSession._meta.db_table} s JOIN (VALUES
                    (100, 0, 8, 'bruising', 'mild'), (100, 8, 13, 'bleeding', 'mild'),
                    (100, 13, 15, 'pain_after', 'mild'), (100, 15, 18, 'pain_during', 'mild'),
                    (1000, 180, 181, 'aggravation', 'significant'),
                    (50000, 7, 8, 'pneumothorax', 'serious')) AS e(modulus, low, high, type, severity)
                ON s.id % e.modulus >= e.low AND s.id % e.modulus < e.high""",
        )
        print(f"side effects: {cursor.rowcount} in {time.perf_counter() - step:.0f}s", flush=True)
        step = time.perf_counter()
        form = ConsentForm.objects.create(
            title="Consent to IMS / dry needling",
            version="bench-1",
            effective_date=first_day - timedelta(days=30),
            body="Benchmark form.",
            published_at=timezone.now() - timedelta(days=365 * YEARS + 30),
            published_by_id=physios[0],
        )
        items = {
            region: RiskItem.objects.create(
                form=form, region=region, title=region, description=region, order=n
            ).pk
            for n, region in enumerate(("general", "neck", "mid_back"))
        }
        insert_select(
            cursor,
            ConsentRecord,
            {
                "patient_id": "p.id",
                "form_id": str(form.pk),
                "explained_by_id": (f"(%s::bigint[])[1 + p.id % {THERAPISTS}]", [physios]),
                "signer_name": "'Patient'",
                "submission_key": "gen_random_uuid()",
                "signature": "'data:image/svg+xml;base64,PHN2Zy8+'",
                "signed_at": ("%s", [timezone.now() - timedelta(days=365 * YEARS + 1)]),
            },
            f"{Patient._meta.db_table} p WHERE p.id % 10 <> 0",
        )
        insert_select(
            cursor,
            RiskDecision,
            {
                "record_id": "c.id",
                "risk_item_id": "i.id",
                "accepted": f"NOT ((i.id = {items['neck']} AND c.patient_id % 20 = 1) "
                f"OR (i.id = {items['mid_back']} AND c.patient_id % 20 = 2))",
            },
            f"{ConsentRecord._meta.db_table} c CROSS JOIN {RiskItem._meta.db_table} i "
            f"WHERE i.form_id = {form.pk}",
        )
        print(f"consents: in {time.perf_counter() - step:.0f}s", flush=True)
    step = time.perf_counter()
    from reports.summaries import rebuild

    rebuild()  # the triggers were off during the load: count the summaries once, set-based
    print(f"report summaries rebuilt in {time.perf_counter() - step:.0f}s", flush=True)
    with connection.cursor() as cursor:
        for model in (Appointment, NeedlingSession, NeedlePoint, SideEffect, ConsentRecord, RiskDecision):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(f"loaded in {time.perf_counter() - started:.0f}s", flush=True)


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
    therapist = User.objects.get(email="bench-physio7@clinic.test")
    one_therapist = ReportFilter(year.start, year.end, therapist)
    in_year = NeedlingSession.objects.filter(started_at__gte=year.starts_at, started_at__lt=year.ends_before)
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
