"""Patient search at 100k patients: server time per search, indexed vs. an unindexed scan, same run.

    DATABASE_URL="postgresql://postgres@/bench_patients?host=$PWD/var/test/run" \
        .venv/bin/python bench/patients_search.py [--size 100000] [--repeat 20]

Creates the database named in DATABASE_URL if it is missing, migrates it, loads demo patients up to
--size with COPY (patients/demo.py), then times each kind of query the search box accepts through
patients.services.search_patients (the code the view runs). The baseline runs the very same SQL with the
planner forbidden to use indexes (enable_indexscan / enable_bitmapscan / enable_indexonlyscan off),
so PostgreSQL answers it by scanning every row: what an ILIKE search with no trigram index costs.
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


def typo(word):
    """The word with its third letter typed twice ("Sato" -> "Satto"), as a hurried keystroke does."""
    return word[:3] + word[2:]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if not prepare_database():
        return 2
    from django.db import connection, transaction

    from patients.demo import add_patients
    from patients.models import Patient
    from patients.services import search_patients

    started = time.perf_counter()
    added = add_patients(args.size)
    if added:
        print(f"loaded {added} patients in {time.perf_counter() - started:.1f}s")
    total = Patient.objects.count()

    # A patient somewhere in the middle of the table, with a PHN and a phone, read back from the database.
    sample = Patient.objects.exclude(phn="").exclude(phone="").order_by("id")[min(4242, total // 3)]
    given, family, born = sample.given_name, sample.family_name, sample.date_of_birth.isoformat()
    phone, phn, chart = str(sample.phone), sample.phn, sample.chart_number
    queries = [
        ("name fragment", family[:4].lower()),
        ("accented name, typed without accents", "nguyen"),
        ("given + family words", f"{given} {family}"),
        ("phone, last 4 digits", phone[-4:]),
        ("phone, full", f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"),
        ("date of birth, YYYY-MM-DD", born),
        ("PHN", phn),
        ("chart number", chart),
        # No name holds these as typed, so the search falls back to trigram similarity (a second query).
        ("typo in a family name", typo(family)),
        ("given + family, typo in the family name", f"{given} {typo(family)}"),
        ("nothing like any name", "xqzvwk"),
    ]

    # The whole htmx request as the front desk's browser sends it: access check, search, badges, template.
    from django.test import Client

    from accounts.models import Role, User

    desk = User.objects.filter(email="bench-desk@clinic.test").first() or User.objects.create_user(
        "bench-desk@clinic.test", None, full_name="Bench Desk", role=Role.FRONT_DESK
    )
    client = Client(HTTP_HOST="localhost", HTTP_HX_REQUEST="true")
    client.force_login(desk)
    from _common import pass_second_factor

    pass_second_factor(client, desk)

    def run_view(text):
        def run():
            response = client.get("/patients/", {"q": text})
            assert response.status_code == 200, response.status_code

        return run

    def run_search(text):
        return lambda: list(search_patients(text))

    def run_unindexed(text):
        def run():
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute("SET LOCAL enable_indexonlyscan = off")
                list(search_patients(text))

        return run

    print(f"\n{total} patients, {args.repeat} runs each; times in ms (median / p95)\n")
    print(
        "| query | typed | patients matching | search, indexed | unindexed scan | ratio "
        "| whole htmx request |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, text in queries:
        matches = len(list(search_patients(text, limit=None)))
        indexed, indexed_p95 = timed(run_search(text), args.repeat)
        scan, scan_p95 = timed(run_unindexed(text), max(3, args.repeat // 4))
        view, view_p95 = timed(run_view(text), args.repeat)
        print(
            f"| {label} | `{text}` | {matches} | {indexed:.2f} / {indexed_p95:.2f} | "
            f"{scan:.1f} / {scan_p95:.1f} | {scan / indexed:.0f}x | {view:.1f} / {view_p95:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
