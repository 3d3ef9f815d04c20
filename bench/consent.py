"""Consent at 100k patients: how long the demo consents take to load, and what the consent questions cost.

    DATABASE_URL="postgresql://postgres@/bench_consent?host=$PWD/var/test/run" \
        .venv/bin/python bench/consent.py [--size 100000] [--repeat 30]

Creates the database named in DATABASE_URL if it is missing, migrates it, loads demo staff, demo
patients up to --size (COPY, patients/demo.py) and the demo consents (set-based SQL, consent/demo.py),
timing the consent load. Then times, through the code the pages and the needling work run:
consent_status for 1, 25 and 50 patients (one query each), allowed_regions for one patient, and the
chart panel and list badges; the baseline is the same 50 patients asked one by one (50 queries), in the
same run.
"""

import argparse
import contextlib
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
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    import random

    from django.core.management.base import OutputWrapper
    from django.db import connection
    from django.test import RequestFactory

    from accounts import demo as accounts_demo
    from accounts.management.commands.seed_demo import Demo
    from consent import demo as consent_demo
    from consent.chart import consent_badges, consent_panel
    from consent.errors import NeedlingNotAllowed
    from consent.models import ConsentRecord, Region, RiskDecision
    from consent.selectors import allowed_regions, check_region_allowed, consent_status
    from patients.demo import add_patients

    demo = Demo(size=args.size, rng=random.Random(1), stdout=OutputWrapper(sys.stdout))
    accounts_demo.seed(demo)
    started = time.perf_counter()
    added = add_patients(args.size, demo.shared["physiotherapists"])
    if added:
        print(f"loaded {added} patients in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    consent_demo.seed(demo)
    print(f"consent demo seed: {time.perf_counter() - started:.2f}s")
    records, decisions = ConsentRecord.objects.count(), RiskDecision.objects.count()
    print(f"{records} consents, {decisions} decisions")

    ids = list(ConsentRecord.objects.order_by("patient_id").values_list("patient_id", flat=True).distinct())
    middle = len(ids) // 2
    one, page, fifty = ids[middle : middle + 1], ids[middle : middle + 25], ids[middle : middle + 50]
    physio = demo.shared["physiotherapists"][0]
    request = RequestFactory().get("/")
    request.user = physio

    from patients.models import Patient

    patients = list(Patient.objects.filter(pk__in=page))
    patient = patients[0]

    def queries(run):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            run()
        return len(captured)

    def denied_or_allowed():
        with contextlib.suppress(NeedlingNotAllowed):  # a refusal is an answer too
            check_region_allowed(patient, Region.NECK)

    rows = [
        ("consent_status, 1 patient", lambda: consent_status(one)),
        ("consent_status, 25 patients", lambda: consent_status(page)),
        ("consent_status, 50 patients", lambda: consent_status(fifty)),
        ("allowed_regions, 1 patient", lambda: allowed_regions(one[0])),
        ("check_region_allowed (neck)", denied_or_allowed),
        ("badges, 25 patients (list page)", lambda: consent_badges(patients)),
        ("chart panel (clinician)", lambda: consent_panel(request, patient)),
        ("baseline: 50 patients one by one", lambda: [consent_status([pk]) for pk in fifty]),
    ]
    print("\n| call | queries | median ms | p95 ms |\n|---|---|---|---|")
    for label, run in rows:
        median, p95 = timed(run, args.repeat)
        print(f"| {label} | {queries(run)} | {median:.2f} | {p95:.2f} |")

    return 0


if __name__ == "__main__":
    sys.exit(main())
