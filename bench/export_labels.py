"""What labels instead of codes cost a CSV export (issue 14 part 4): PostgreSQL's COPY of one million
needle point rows with the six coded columns of the needle points export as stored (neutralised against
formulas, as the CSV does) and as their labels (reports.exports.labelled_sql: one CASE of constants per
column), alternating, five times each in one run; the fastest of each.

    make bench BENCH_ARGS="export_labels"

The rows are synthetic, in a temporary table (every code of each column in turn): the cost measured is the
CASE's alone, per row, on the SQL the export sends, with nothing else of the export around it.
"""

import os
import sys
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

ROWS = 1_000_000
ROUNDS = 5


def main():
    import django

    django.setup()
    from _common import ensure_database

    from reports.exports import REGISTRY, csv_safe_sql, labelled_sql

    url = os.environ["DATABASE_URL"]
    ensure_database(url)
    labels = REGISTRY["needle_points"].code_labels
    columns = list(labels)
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        picks = []
        for n, column in enumerate(columns):
            codes = "ARRAY[" + ", ".join(f"'{code}'" for code in labels[column]) + "]"
            picks.append(f"({codes})[1 + (i * {7 + n}) % {len(labels[column])}] AS {column}")
        rows = f"generate_series(1, {ROWS}) i"
        cursor.execute(f"CREATE TEMP TABLE points AS SELECT i AS id, {', '.join(picks)} FROM {rows}")
        statements = {
            "codes": "SELECT id, " + ", ".join(f"{csv_safe_sql(c)} AS {c}" for c in columns) + " FROM points",
            "labels": "SELECT id, "
            + ", ".join(f"{labelled_sql(c, labels[c])} AS {c}" for c in columns)
            + " FROM points",
        }
        fastest = dict.fromkeys(statements, float("inf"))
        size = {}
        for _ in range(ROUNDS):
            for name, sql in statements.items():
                started, size[name] = time.perf_counter(), 0
                with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                    for data in copy:
                        size[name] += len(data)
                fastest[name] = min(fastest[name], time.perf_counter() - started)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("| rows | coded columns | COPY codes | COPY labels | cost |")
    print("|---|---|---|---|---|")
    cost = 100 * (fastest["labels"] / fastest["codes"] - 1)
    print(
        f"| {ROWS:,} | {len(columns)} | {fastest['codes']:.2f} s ({size['codes'] / 2**20:.0f} MiB) "
        f"| {fastest['labels']:.2f} s ({size['labels'] / 2**20:.0f} MiB) | {cost:+.0f}% |"
    )


if __name__ == "__main__":
    main()
