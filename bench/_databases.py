"""The databases the scorecard (bench/run.py) measures, built once and reused while they exist.

    python bench/_databases.py clinic 150000    the demo clinic: seed_demo --size 150000 (1M sessions)
    python bench/_databases.py search 1000000   demo patients only, by COPY (patients/demo.py)

Each lives on the server DATABASE_URL names, in a database named for its kind and size
(bench_clinic_150000, bench_search_1000000), so a quick size never reuses a full one's rows or the other
way round. A database counts as built only once its build finished: the last step writes a comment on
the database (`COMMENT ON DATABASE`) naming the command and how long it took; a database without it (a
build that was interrupted) is dropped and built again.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BUILT = "built by bench/_databases.py: "


def url_for(name, base=None):
    """DATABASE_URL (or `base`) with its database replaced by `name`."""
    return urlparse(base or os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()


def name_for(kind, size):
    return f"bench_{kind}_{size}"


def server_url():
    return url_for("postgres")


def built_comment(name):
    """The comment of a finished build, or None (missing, or interrupted)."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    if row is None:
        return None
    if not (row[0] or "").startswith(BUILT):
        with psycopg.connect(server_url(), autocommit=True) as conn:
            print(f"bench: {name} was not finished; building it again", flush=True)
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        return None
    return row[0][len(BUILT) :]


def manage(url, *args):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("MIGRATION_DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def build(kind, size):
    """Build the database of `kind` at `size` unless a finished one is there; return its URL."""
    name = name_for(kind, size)
    url = url_for(name)
    comment = built_comment(name)
    if comment is not None:
        print(f"bench: reusing {name} ({comment})", flush=True)
        manage(url, "migrate", "-v", "0")  # the code measured may have migrations the build had not
        return url
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    print(f"bench: building {name}", flush=True)
    manage(url, "migrate", "-v", "0")
    if kind == "clinic":
        # The demo clinic every page is measured on: staff, schedules, a chain of locations, consents,
        # appointments around today, signed sessions with their points (docs/benchmarks.md).
        manage(url, "seed_demo", "--size", str(size))
        how = f"seed_demo --size {size}"
    elif kind == "search":
        # Patients only: what the search box reads (the clinic database's patients are too few for 1M).
        script = f"from patients.demo import add_patients; add_patients({size})"
        manage(url, "shell", "-c", script)
        how = f"patients.demo.add_patients({size})"
    else:
        raise ValueError(kind)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    took = time.monotonic() - started
    comment = f"{how}, {took:.0f} s, {time.strftime('%Y-%m-%d')}"
    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{BUILT}{comment}'")
    print(f"bench: built {name} in {took:.0f} s", flush=True)
    return url


if __name__ == "__main__":
    print(build(sys.argv[1], int(sys.argv[2])))
