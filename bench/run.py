"""Run every benchmark under bench/ (or the ones named) against DATABASE_URL, one after another.

    make bench                                  all of them
    make bench BENCH_ARGS="patients_search"     only bench/patients_search.py

Each benchmark builds the data it needs in its own database on the server DATABASE_URL names (never the
database DATABASE_URL itself, which `make run` keeps the demo clinic in), measures a baseline in the same
run, and prints the figures that docs/benchmarks.md records. Later runs reuse the loaded data.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
# The database each benchmark loads (the two reports benchmarks share theirs).
DATABASES = {
    "patients_search": "bench_patients",
    "consent": "bench_consent",
    "appointments_day_view": "bench_appointments",
    "visit_summary_pdf": "bench_treatments",
    "reports_dashboard": "bench_reports",
    "reports_export": "bench_reports",
    "interop_import": "bench_interop_import",
}


def database_url(url, name):
    """`url` with its database name replaced by `name` (same server, user and options)."""
    parsed = urlparse(url)
    return parsed._replace(path=f"/{name}").geturl()


def main(names):
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run.py" and not p.name.startswith("_"))
    if names:
        scripts = [p for p in scripts if p.stem in names]
        missing = set(names) - {p.stem for p in scripts}
        if missing:
            print(f"bench: no benchmark named {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        env = dict(os.environ)
        if env.get("DATABASE_URL"):
            name = DATABASES.get(script.stem, f"bench_{script.stem}")
            env["DATABASE_URL"] = database_url(env["DATABASE_URL"], name)
        failed += subprocess.run([sys.executable, str(script)], cwd=HERE.parent, env=env).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
