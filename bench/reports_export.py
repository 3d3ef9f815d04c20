"""CSV and XLSX exports at benchmark size: time to first byte, rows per second against PostgreSQL's own
COPY ... TO STDOUT of the same SQL in the same run, and peak memory at about 1M and 10M rows.

    DATABASE_URL="postgresql://postgres@/bench_reports?host=$PWD/var/test/run" \
        .venv/bin/python bench/reports_export.py

Uses the database bench/reports_dashboard.py loads (and loads it the same way if it is empty).
- *COPY baseline*: a bare psycopg connection runs `COPY (<the export's SQL>) TO STDOUT (FORMAT csv,
  HEADER)` and reads every byte; nothing else.
- *export view*: GET /reports/exports/<key>/ through Django's test client as a manager (access check,
  session, form, audit), reading the StreamingHttpResponse to the end: the bytes a WSGI server sends.
  Time to first byte is from the request to the first chunk.
- *peak memory*: each download runs in a fresh child process; the figure is the child's peak resident
  set (ru_maxrss) minus that of a child that only started Django and logged in.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))  # for reports_dashboard; the project comes first
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


def setup():
    import django

    django.setup()


def manager_client():
    from django.test import Client

    from accounts.models import Role, User

    user = User.objects.filter(email="bench-manager@clinic.test").first() or User.objects.create_user(
        "bench-manager@clinic.test", None, full_name="Bench manager", role=Role.MANAGER
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    from _common import pass_second_factor

    pass_second_factor(client, user)
    return client


def download(client, key, start, end, file_format="csv"):
    """(seconds to first byte, seconds in all, bytes, lines) of one export through the view."""
    started = time.perf_counter()
    response = client.get(
        f"/reports/exports/{key}/", {"start": start, "end": end, "file_format": file_format}
    )
    assert response.status_code == 200, response.status_code
    first = None
    size = lines = 0
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return first, time.perf_counter() - started, size, lines


def copy_baseline(url, key, start, end, csv_safe=False):
    """(seconds to first byte, seconds in all, bytes, rows) of the bare COPY of the export's SQL (with
    csv_safe: with its text columns neutralised against formula injection, as the CSV download runs it)."""
    from reports.exports import REGISTRY
    from reports.filters import ReportFilter

    sql, params, _ = REGISTRY[key].sql(
        ReportFilter(date.fromisoformat(start), date.fromisoformat(end)), csv_safe=csv_safe
    )
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # what Django's connection uses
        cursor = conn.cursor()
        started = time.perf_counter()
        first = None
        size = 0
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER true)", params) as copy:
            for data in copy:
                if first is None:
                    first = time.perf_counter() - started
                size += len(data)
        return first, time.perf_counter() - started, size, cursor.rowcount


def child(key, start, end, file_format):
    """One download in this fresh process; print its figures and peak memory as JSON."""
    setup()
    client = manager_client()
    figures = {"idle_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if key != "none":
        first, total, size, lines = download(client, key, start, end, file_format)
        figures.update(first=first, total=total, bytes=size, lines=lines)
    figures["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(figures))
    return 0


def in_child(key, start, end, file_format="csv"):
    done = subprocess.run(
        [sys.executable, __file__, "--child", key, start, end, file_format], capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the child download failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("KEY", "START", "END", "FORMAT"))
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    from _common import prepare_database
    from reports_dashboard import load

    if not prepare_database():
        return 2
    from django.utils import timezone

    load(100_000)
    url = os.environ["DATABASE_URL"]
    today = timezone.localdate()
    year = ((today - timedelta(days=364)).isoformat(), today.isoformat())
    half = ((today - timedelta(days=181)).isoformat(), today.isoformat())
    everything = ((today - timedelta(days=365 * 6)).isoformat(), today.isoformat())
    client = manager_client()

    print(
        "\n| export | range | rows | COPY: first byte / total / rows per s "
        "| export view: first byte / total / rows per s | view / COPY |"
    )
    print("|---|---|---|---|---|---|")
    for key, label, (start, end) in [
        ("sessions", "all (5 years)", everything),
        ("needle_points", "last 365 days", year),
        ("needle_points", "all (5 years)", everything),
        ("appointments", "all (5 years)", everything),
    ]:
        copy_first, copy_total, _, rows = copy_baseline(url, key, start, end)
        view_first, view_total, _, lines = download(client, key, start, end)
        assert lines - 1 == rows, (lines, rows)
        copy_rate, view_rate = rows / copy_total, rows / view_total
        print(
            f"| {key} | {label} | {rows:,} "
            f"| {copy_first * 1000:.0f} ms / {copy_total:.1f} s / {copy_rate:,.0f} "
            f"| {view_first * 1000:.0f} ms / {view_total:.1f} s / {view_rate:,.0f} "
            f"| {view_rate / copy_rate:.0%} |",
            flush=True,
        )

    # What neutralising formula cells costs: the same COPY with and without it, alternating, five times
    # each in one run; the fastest of each is the least disturbed by whatever else runs on the machine.
    print("\n| export | range | rows | COPY plain: fastest s | COPY csv_safe: fastest s | cost |")
    print("|---|---|---|---|---|---|")
    for key, label, (start, end) in [
        ("sessions", "all (5 years)", everything),
        ("appointments", "all (5 years)", everything),
        ("needle_points", "last 365 days", year),
    ]:
        plain, safe = [], []
        for _ in range(5):
            plain.append(copy_baseline(url, key, start, end)[1])
            _first, safe_total, _, rows = copy_baseline(url, key, start, end, csv_safe=True)
            safe.append(safe_total)
        plain_s, safe_s = min(plain), min(safe)
        print(
            f"| {key} | {label} | {rows:,} | {plain_s:.2f} | {safe_s:.2f} | {safe_s / plain_s - 1:+.0%} |",
            flush=True,
        )

    print("\n| download (fresh process each) | rows | time | peak RSS | above an idle process |")
    print("|---|---|---|---|---|")
    idle = in_child("none", *year)
    for key, label, (start, end), file_format in [
        ("needle_points", "CSV, last 182 days", half, "csv"),
        ("needle_points", "CSV, all (5 years)", everything, "csv"),
        ("sessions", "XLSX, last 365 days", year, "xlsx"),
    ]:
        figures = in_child(key, start, end, file_format)
        rows = f"{figures['lines'] - 1:,}" if file_format == "csv" else "(xlsx)"
        extra = (figures["peak_kib"] - idle["peak_kib"]) / 1024
        peak = figures["peak_kib"] / 1024
        print(
            f"| {key} {label} | {rows} | {figures['total']:.1f} s | {peak:.0f} MiB | {extra:+.0f} MiB |",
            flush=True,
        )
    print(f"(an idle process, Django started and logged in: {idle['peak_kib'] / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
