"""The scorecard's work inside Django (bench/run.py runs it as a child, on one benchmark database):

    python bench/_calls.py pages            sign the bench users in; print their cookies and the pages' URLs
    python bench/_calls.py calls ROUNDS     the call rows (signing, PDF, CSV export), each with its baseline
    python bench/_calls.py search ROUNDS    indexed search against a sequential scan of the same SQL

Each prints one JSON object on its last line. Every call row takes turns with its baseline, round after
round, and its figure is the median of the per-round ratios: a busy machine slows both sides of a round
alike. The environment is production's (DEBUG=0, bench/run.py sets it): no query log, no debug pages.
"""

import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

MINIMAL = "<!doctype html><html><body><h1>IMS Clinic</h1><p>A minimal one-page document.</p></body></html>"
SIGNATURE = (
    "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAz"
    "MDAgMTAwIj48cGF0aCBkPSJNIDEwIDYwIEMgNDAgMTAsIDY1IDEwLCA5NSA2MCIgc3Ryb2tlPSJibGFjayIgZmlsbD0ibm9uZSIvPjwvc3ZnPg=="
)
DRAFT_FIELDS = {
    "presenting_complaint": "Right-sided neck pain and stiffness for 3 months, worse at the desk",
    "pain_before": 6,
    "rom_findings": "Cervical rotation R 50 degrees, L 70 degrees; side flexion painful",
    "screening_reviewed": True,
    "impression": "Myofascial pain with segmental dysfunction C5-C6",
    "plan": "IMS weekly for 4 weeks with home exercises",
    "pain_after": 3,
    "movement_change": "Rotation R 65 degrees",
    "immediate_response": "Pain eased, moves more freely",
    "aftercare_heat_hydration": True,
    "aftercare_warning_signs": True,
    "sharps_disposed": True,
}


def setup():
    import django

    django.setup()


def alternate(subject, baseline, rounds, warm=1):
    """(median ratio subject/baseline, median subject s, median baseline s): the two take turns."""
    for _ in range(warm):
        baseline()
        subject()
    ratios, subjects, baselines = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        baseline()
        base = time.perf_counter() - started
        started = time.perf_counter()
        subject()
        took = time.perf_counter() - started
        ratios.append(took / base)
        subjects.append(took)
        baselines.append(base)
    return statistics.median(ratios), statistics.median(subjects), statistics.median(baselines)


# --- who the benchmark is -------------------------------------------------------------------------------
def demo_user(email):
    from accounts.models import User

    return User.objects.get(email=email)


def signed_in_cookie(user):
    """A session cookie of `user` with the second factor passed, stored in the database, so that any app
    server (gunicorn here) accepts it."""
    from _common import pass_second_factor
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    pass_second_factor(client, user)
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def bench_patient(family_name):
    """A patient with every risk accepted on the current consent form (made once; found again later)."""
    from consent.models import ConsentForm
    from consent.services.obtaining import obtain_consent
    from patients.models import Patient

    patient = Patient.objects.filter(family_name=family_name).first()
    physio = demo_user("physio@demo.imsclinic.test")
    if patient:
        screen(patient, physio)  # a patient made months ago may be due a new screening
        return patient
    patient = Patient.objects.create(
        given_name="Zoë", family_name=family_name, date_of_birth=date(1985, 4, 12)
    )
    screen(patient, physio)
    form = (
        ConsentForm.objects.filter(published_at__isnull=False, effective_date__lte=date.today())
        .order_by("-effective_date", "-pk")
        .first()
    )
    obtain_consent(
        patient,
        decisions={item: True for item in form.risks.all()},
        explained_by=physio,
        recorded_by=physio,
        signer_name=f"Zoë {family_name}",
        signature=SIGNATURE,
        form=form,
    )
    return patient


def screen(patient, physio):
    """A current screening with every answer "no", which a first needle point needs (issue 11)."""
    from patients.models import SCREENING_ITEMS, Screening
    from patients.services import latest_screening, screening_is_due

    if screening_is_due(latest_screening(patient)):
        Screening.objects.create(
            patient=patient, answered_by=physio, **{key: False for key, _label in SCREENING_ITEMS}
        )


def point_fields(count):
    """The fields of `count` needle points (outside the risk regions, so general consent suffices)."""
    from treatments.models import Muscle, NeedleSize

    muscles = list(Muscle.objects.filter(risk_region="none").order_by("pk")[:20])
    deep = NeedleSize.objects.get(gauge_mm="0.30", length_mm=50)
    return [
        {
            "muscle": muscles[index % len(muscles)],
            "side": "LR"[index % 2],
            "needle_size": deep,
            "depth_mm": 30,
            "insertions": 1 + index % 3,
            "twitch_response": ["none", "single", "multiple"][index % 3],
            "patient_response": ["ache", "referred", "familiar", "none"][index % 4],
        }
        for index in range(count)
    ]


def draft_session(patient, physio, points):
    """A draft session of `physio` with `points` needle points, through treatments.services (add_points,
    the one door of every point, as repeat last session adds a session's points)."""
    from treatments.services import add_points, start_session

    session = start_session(patient=patient, clinician=physio)
    add_points(session, point_fields(points), by=physio)
    return session


def screen_session(physio):
    """The draft with 10 points whose screen the page benchmark loads (made once)."""
    from treatments.models import NeedlingSession

    patient = bench_patient("Bench-Screen")
    session = NeedlingSession.objects.filter(patient=patient, signed_at__isnull=True).first()
    return session or draft_session(patient, physio, 10)


# --- pages: cookies and URLs for the load generator ------------------------------------------------------
def pages():
    from django.db.models import Count
    from django.utils import timezone

    from appointments.models import Appointment, Location
    from patients.models import Patient

    desk = demo_user("desk@demo.imsclinic.test")
    physio = demo_user("physio@demo.imsclinic.test")
    manager = demo_user("manager@demo.imsclinic.test")
    cookies = {
        role: signed_in_cookie(user)[1]
        for role, user in [("desk", desk), ("physio", physio), ("manager", manager)]
    }

    session = screen_session(physio)
    main = Location.objects.order_by("pk").first()
    today = timezone.localdate()

    # The main clinic's busiest day near today (the demo lays today out when it is seeded; a database
    # built days ago still has a full day around then). Each day is counted as a range of `start`, which
    # appointment_day_idx serves: grouping by start__date would turn every appointment's start into a
    # date first, reading every one of them.
    def appointments_on(day):
        begin = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        return Appointment.objects.filter(
            location=main, start__gte=begin, start__lt=begin + timedelta(days=1)
        ).count()

    counts = {day: appointments_on(day) for day in (today + timedelta(days=n) for n in range(-7, 8))}
    day = max(counts, key=counts.get)
    day_count = counts[day]
    if not day_count:
        day = today
    total = Patient.objects.count()
    sample = Patient.objects.order_by("pk")[min(4242, total // 3)]
    chart_patient = session.patient_id
    # The chart of a patient with history: the one with the most sessions among the first thousand.
    from treatments.models import NeedlingSession

    busy = (
        NeedlingSession.objects.filter(patient_id__lte=1000)
        .values("patient_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busy:
        chart_patient = busy["patient_id"]
    year_ago = today - timedelta(days=364)
    return {
        "cookies": cookies,
        "urls": {
            "search_name": ("desk", "/patients/?q=sato", True),
            "search_chart": ("desk", f"/patients/?q={sample.chart_number}", True),
            "day_view": ("desk", f"/appointments/?date={day.isoformat()}&location={main.pk}", False),
            "chart": ("physio", f"/patients/{chart_patient}/", False),
            "my_day": ("physio", "/sessions/my-day/", False),
            "session_screen": ("physio", f"/sessions/{session.pk}/", False),
            "dashboard_90": ("manager", f"/reports/?start={today - timedelta(days=89)}&end={today}", False),
            "dashboard_365": ("manager", f"/reports/?start={year_ago}&end={today}", False),
            "hello": ("desk", "/hello", False),
        },
        "facts": {
            "day_view_appointments": day_count,
            "session_points": session.points.count(),
            "patients": total,
        },
    }


# --- calls ---------------------------------------------------------------------------------------------
def sign_forty(rounds):
    """Sign a 40-point session through the services (start, add_points of 40, save_draft, sign) against
    inserting the very same rows in one transaction (the session, bulk_create of the points, the signing
    UPDATE with the database's hash)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from treatments.models import NeedlePoint, NeedlingSession
    from treatments.services import save_draft, sign_session

    physio = demo_user("physio@demo.imsclinic.test")
    patient = bench_patient("Bench-Sign")
    made = []

    def through_services():
        session = draft_session(patient, physio, 40)
        session = save_draft(
            session,
            {**DRAFT_FIELDS, "needles_in": 40, "needles_out": 40},
            expected_version=session.version,
            by=physio,
        )
        made.append(sign_session(session, by=physio))

    def bulk_insert():
        model = made[-1]
        skip = {"id", "signed_at", "signed_by", "content_hash"}
        fields = {
            f.attname: getattr(model, f.attname)
            for f in NeedlingSession._meta.concrete_fields
            if f.name not in skip
        }
        points = list(NeedlePoint.objects.filter(session=model).order_by("order"))
        now = timezone.now()
        with transaction.atomic():
            session = NeedlingSession.objects.create(**{**fields, "started_at": now, "created_at": now})
            copies = []
            for point in points:
                point.pk = None
                point.session_id = session.pk
                point.recorded_at = now  # needled in this session (the database refuses a point before it)
                copies.append(point)
            NeedlePoint.objects.bulk_create(copies)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE treatments_needlingsession SET signed_at = %s, signed_by_id = %s, "
                    "content_hash = treatments_content_hash(id, %s, %s) WHERE id = %s",
                    [now, physio.pk, now, physio.pk, session.pk],
                )

    through_services()  # a session for the baseline to copy from the first round on
    with CaptureQueriesContext(connection) as queries:
        through_services()
    ratio, took, base = alternate(through_services, bulk_insert, rounds)
    return {"ratio": ratio, "subject_s": took, "baseline_s": base, "queries": len(queries)}


def pdf_download(rounds, signed):
    """GET the visit summary PDF of a 10-point session (signed, or a draft) as its physiotherapist,
    against WeasyPrint writing a minimal one-page document."""
    from django.conf import settings
    from weasyprint import HTML

    from treatments.models import NeedlingSession

    physio = demo_user("physio@demo.imsclinic.test")
    if signed:
        # A signed demo session of this physiotherapist, not one the signing benchmark made.
        signed_sessions = NeedlingSession.objects.filter(signed_at__isnull=False).exclude(
            patient__family_name__startswith="Bench-"
        )
        session = (
            signed_sessions.filter(clinician=physio).order_by("-signed_at").first()
            or signed_sessions.order_by("-signed_at").first()
        )
        physio = session.clinician
    else:
        session = screen_session(physio)
    client, _ = signed_in_cookie(physio)
    url = f"/sessions/{session.pk}/visit-summary.pdf"

    def download():
        response = client.get(url, secure=True)
        assert response.status_code == 200, response.status_code
        if response.streaming:
            for _ in response.streaming_content:
                pass

    def minimal():
        HTML(string=MINIMAL, base_url=str(settings.BASE_DIR)).write_pdf()

    ratio, took, base = alternate(download, minimal, rounds, warm=2)
    return {"ratio": ratio, "subject_s": took, "baseline_s": base, "points": session.points.count()}


def export_vs_copy(rounds, key, start, end):
    """GET /reports/exports/<key>/ (CSV, streamed to the end) as the manager, against a bare COPY of the
    same SQL (neutralised the same way) read to the end. The figure is COPY's time over the export's:
    the export's rows per second as a share of COPY's."""
    from reports_export import copy_baseline, download

    manager = demo_user("manager@demo.imsclinic.test")
    client, _ = signed_in_cookie(manager)
    conninfo = os.environ["DATABASE_URL"]
    lines = {}

    def export():
        first, total, size, count = download(client, key, start, end)
        lines["export"] = count - 1

    def copy():
        first, total, size, rows = copy_baseline(conninfo, key, start, end, csv_safe=True)
        lines["copy"] = rows

    ratio, took, base = alternate(export, copy, rounds)
    return {"ratio": 1 / ratio, "subject_s": took, "baseline_s": base, "rows": lines.get("copy")}


def calls(rounds, wanted=None):
    from django.utils import timezone

    from appointments.models import Appointment

    today = timezone.localdate()
    first = Appointment.objects.order_by("start").values_list("start", flat=True).first()
    start = timezone.localtime(first).date().isoformat() if first else today.isoformat()
    year = (today - timedelta(days=364)).isoformat()
    results = {}
    started = time.monotonic()

    def run(name, function, *args):
        if wanted and name not in wanted:
            return
        began = time.monotonic()
        results[name] = function(*args)
        results[name]["seconds"] = round(time.monotonic() - began, 1)
        print(f"bench: {name}: {results[name]}", file=sys.stderr, flush=True)

    run("sign_40", sign_forty, rounds)
    run("pdf_signed", pdf_download, rounds, True)
    run("pdf_draft", pdf_download, rounds, False)
    export_rounds = max(2, rounds // 3)
    run("export_sessions", export_vs_copy, export_rounds, "sessions", start, today.isoformat())
    run("export_appointments", export_vs_copy, export_rounds, "appointments", start, today.isoformat())
    run("export_points", export_vs_copy, export_rounds, "needle_points", year, today.isoformat())
    results["_seconds"] = round(time.monotonic() - started, 1)
    return results


# --- search --------------------------------------------------------------------------------------------
def search(rounds):
    """Each kind of identifier and name through patients.services.search_patients, against the same SQL
    with the planner kept off every index (a sequential scan of the table)."""
    from django.db import connection, transaction

    from patients.models import Patient
    from patients.services import search_patients

    total = Patient.objects.count()
    sample = Patient.objects.exclude(phn="").exclude(phone="").order_by("id")[min(4242, total // 3)]
    phone = str(sample.phone)
    queries = {
        "search_by_chart": sample.chart_number,
        "search_by_phn": sample.phn,
        # As the search box takes it (patients/dates.py): a DD/MM date whose day is 12 or less is refused.
        "search_by_dob": sample.date_of_birth.isoformat(),
        "search_by_phone": f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
        "search_two_names": f"{sample.given_name} {sample.family_name}",
        "search_fragment": sample.family_name[:4].lower(),
    }
    results = {}
    for name, text in queries.items():

        def indexed(text=text):
            list(search_patients(text))

        def scan(text=text):
            with transaction.atomic(), connection.cursor() as cursor:
                for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                    cursor.execute(f"SET LOCAL {setting} = off")
                list(search_patients(text))

        ratio, took, base = alternate(indexed, scan, rounds)
        results[name] = {
            "ratio": ratio,
            "subject_s": took,
            "baseline_s": base,
            "typed": text,
            "patients": total,
        }
        print(f"bench: {name}: {results[name]}", file=sys.stderr, flush=True)
    return results


def main(argv):
    setup()
    action = argv[0]
    rounds = int(argv[1]) if len(argv) > 1 else 5
    if action == "pages":
        result = pages()
    elif action == "calls":
        result = calls(rounds, set(argv[2].split(",")) if len(argv) > 2 else None)
    elif action == "search":
        result = search(rounds)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
