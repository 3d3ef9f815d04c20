"""The scorecard: every row of issue 17's two tables measured as a ratio in one run, written into
docs/benchmarks.md. Also runs the older, more detailed benchmarks by name.

    make bench                                      every row at full size (builds its databases once)
    make bench BENCH_ARGS="--quick"                 every row at a small size: checks the machinery
    make bench BENCH_ARGS="--rows sign_40,chart"    some rows (names: --list); the others keep their figures
    make bench BENCH_ARGS="--quick --no-write"      measure, print, write nothing
    make bench BENCH_ARGS="patients_search"         a detailed benchmark (bench/<name>.py), as before

Full size: the demo clinic of `seed_demo --size 150000` (150,000 patients, 1.8M appointments, 1M signed
sessions, 10M needle points; about 11 minutes to build on 2 cores, once) for pages and calls, and 1M demo
patients for search. Quick: 2,000 and 20,000. Each database is built on the server DATABASE_URL names
(`make bench` gives the local test cluster, as the superuser), named for its kind and size, and reused
while it exists (bench/_databases.py).

- Pages (bench/_load.py): gunicorn with the repository's gunicorn.conf.py, 4 sync workers, DEBUG=0, static
  files from the manifest; 8 clients at once; each page alternated with /hello as the same person; the
  figure is requests per second over /hello's (and the page's median latency under that load).
- Calls (bench/_calls.py): signing 40 points, the visit summary PDF, the CSV exports and the patient
  search, each taking turns with its baseline; the figure is the median of the per-round ratios.
The load average is read at the start and the end, and written with the figures.
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _databases  # noqa: E402
import _scorecard  # noqa: E402
from _load import Gunicorn, measure_page, window  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))

FULL = {"clinic": 150_000, "search": 1_000_000}
QUICK = {"clinic": 2_000, "search": 20_000}
# The older benchmarks and the database each loads (the two reports benchmarks share theirs).
DATABASES = {
    "patients_search": "bench_patients",
    "consent": "bench_consent",
    "appointments_day_view": "bench_appointments",
    "visit_summary_pdf": "bench_treatments",
    "reports_dashboard": "bench_reports",
    "reports_export": "bench_reports",
    "interop_import": "bench_interop_import",
}
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-" + "k" * 40,
    "AUDIT_HMAC_KEY": "benchmark-only-audit-key-" + "a" * 20,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "ERROR",
}


def database_url(url, name):
    """`url` with its database name replaced by `name` (same server, user and options)."""
    return urlparse(url)._replace(path=f"/{name}").geturl()


def detailed(names):
    """Run the detailed benchmarks bench/<name>.py, each on its own database, as before the scorecard."""
    scripts = {p.stem: p for p in HERE.glob("*.py") if p.name != "run.py" and not p.name.startswith("_")}
    missing = [name for name in names if name not in scripts]
    if missing:
        print(
            f"bench: no benchmark named {', '.join(missing)} (bench/*.py, or --list for rows)",
            file=sys.stderr,
        )
        return 2
    failed = 0
    for name in names:
        print(f"== {name}.py", flush=True)
        env = dict(os.environ)
        if env.get("DATABASE_URL"):
            env["DATABASE_URL"] = database_url(env["DATABASE_URL"], DATABASES.get(name, f"bench_{name}"))
        failed += subprocess.run([sys.executable, str(scripts[name])], cwd=ROOT, env=env).returncode != 0
    return 1 if failed else 0


def child(action, url, *args, extra=None):
    """Run bench/_calls.py `action` on the database at `url` in production settings; its JSON."""
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": url, "SECURE_SSL_REDIRECT": "0", **(extra or {})}
    env.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench" / "static"))
    env.pop("MIGRATION_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, str(HERE / "_calls.py"), action, *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"bench: _calls.py {action} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure_pages(url, keys, rounds, seconds):
    prepared = child("pages", url)
    static_root = ROOT / "var" / "bench" / "static"
    env = {
        **os.environ,
        **PRODUCTION,
        "DATABASE_URL": url,
        "STATIC_ROOT": str(static_root),
        "STATIC_MANIFEST": "1",
    }
    env.pop("MIGRATION_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    results = {}
    log = ROOT / "var" / "bench" / "gunicorn.log"
    with Gunicorn(env, free_port(), workers=4, log=log) as server:
        for key in keys:
            role, path, htmx = prepared["urls"][key]
            figures = measure_page(
                server.port, path, prepared["cookies"][role], htmx=htmx, rounds=rounds, seconds=seconds
            )
            figures["facts"] = prepared["facts"]
            figures["path"] = path
            results[key] = figures
            print(f"bench: {key}: {figures}", flush=True)
    return results


def measure_servers(url, rounds, seconds):
    """Requests per second of /hello and of a patient chart through one app server (4 workers), two
    (2 workers each, clients alternating between them: same workers, one database), and two through
    PgBouncer in transaction mode (pool of 4 server connections). Alternated round by round."""
    import pgbouncer

    prepared = child("pages", url)
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": url}
    env.update(STATIC_ROOT=str(ROOT / "var" / "bench" / "static"), STATIC_MANIFEST="1")
    env.pop("MIGRATION_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    parsed = urlparse(url)
    sockets = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)["host"]
    bouncer_port = free_port()
    pooled_url = parsed._replace(netloc=f"{parsed.username}@127.0.0.1:{bouncer_port}", query="").geturl()
    pooled_env = {**env, "DATABASE_URL": pooled_url, "DB_TRANSACTION_POOLING": "1"}
    cookie = prepared["cookies"]["physio"]
    chart = prepared["urls"]["chart"][1]
    logs = ROOT / "var" / "bench"
    figures = {name: {"hello": [], "chart": []} for name in ("one", "two", "two_pooled")}
    with (
        pgbouncer.running(
            logs / "pgbouncer",
            sockets=sockets,
            port=bouncer_port,
            pool_size=4,
            users=[parsed.username],
            admin=parsed.username,
        ),
        Gunicorn(env, free_port(), workers=4, log=logs / "one.log") as one,
        Gunicorn(env, free_port(), workers=2, log=logs / "two-a.log") as two_a,
        Gunicorn(env, free_port(), workers=2, log=logs / "two-b.log") as two_b,
        Gunicorn(pooled_env, free_port(), workers=2, log=logs / "pooled-a.log") as pooled_a,
        Gunicorn(pooled_env, free_port(), workers=2, log=logs / "pooled-b.log") as pooled_b,
    ):
        ports = {
            "one": one.port,
            "two": [two_a.port, two_b.port],
            "two_pooled": [pooled_a.port, pooled_b.port],
        }
        for port in ports.values():  # every worker serves both once before anything is timed
            window(port, "/hello", cookie, seconds=1.0)
            window(port, chart, cookie, seconds=1.0)
        for _ in range(rounds):
            for name, port in ports.items():
                figures[name]["hello"].append(window(port, "/hello", cookie, seconds=seconds)["rps"])
                figures[name]["chart"].append(window(port, chart, cookie, seconds=seconds)["rps"])
        pools = [
            row
            for row in pgbouncer.console(bouncer_port, "SHOW POOLS", admin=parsed.username)
            if row["database"] == parsed.path.lstrip("/")
        ]
    result = {
        name: {page: statistics.median(rates) for page, rates in pages.items()}
        for name, pages in figures.items()
    }
    result["pgbouncer_pool"] = pools[0] if pools else {}
    print(f"bench: servers: {result}", flush=True)
    return result


def machine():
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cores} cores, {memory:.0f} GiB, Python {platform.python_version()}, PostgreSQL (embedded wheel)"


def scorecard(args):
    sizes = QUICK if args.quick else FULL
    keys = [row.key for row in _scorecard.ROWS]
    if args.rows:
        keys = [key.strip() for key in args.rows.split(",") if key.strip()]
        unknown = [key for key in keys if key not in _scorecard.BY_KEY]
        if unknown:
            print(f"bench: no row named {', '.join(unknown)}; --list names them", file=sys.stderr)
            return 2
    groups = {_scorecard.BY_KEY[key].group for key in keys}
    rounds = args.rounds or (3 if args.quick else 5)
    seconds = args.seconds or (2.0 if args.quick else 4.0)
    if not os.environ.get("DATABASE_URL"):
        print(
            "bench: set DATABASE_URL to a PostgreSQL server (make bench gives the test cluster)",
            file=sys.stderr,
        )
        return 2
    clinic = _databases.build("clinic", sizes["clinic"]) if groups & {"pages", "calls"} else None
    search = _databases.build("search", sizes["search"]) if "search" in groups else None
    # From here on, only measuring: the load average now is other work's (and a build's tail).
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_start = os.getloadavg()[0]
    results = {}
    page_keys = [key for key in keys if _scorecard.BY_KEY[key].group == "pages"]
    if page_keys:
        results.update(measure_pages(clinic, page_keys, rounds, seconds))
    if "calls" in groups:
        wanted = [key for key in keys if _scorecard.BY_KEY[key].group == "calls"]
        figures = child("calls", clinic, rounds, ",".join(wanted))
        results.update({key: value for key, value in figures.items() if key in wanted})
    if "search" in groups:
        figures = child("search", search, rounds * 2)
        results.update({key: value for key, value in figures.items() if key in keys})
    load_end = os.getloadavg()[0]

    run_id = time.strftime("%Y%m%dT%H%MZ", time.gmtime())
    command = "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    used = []
    if clinic:
        used.append(f"clinic: seed_demo --size {sizes['clinic']:,}")
    if search:
        used.append(f"search: {sizes['search']:,} patients")
    run = {
        "command": command,
        "date": started_at,
        "sizes": "; ".join(used),
        "machine": machine(),
        "load_start": load_start,
        "load_end": load_end,
        "rounds": rounds,
        "window_s": seconds,
    }
    print(f"\nbench: run {run_id}: {json.dumps(run)}")
    stored = _scorecard.load()
    stored["runs"][run_id] = run
    for key, figures in results.items():
        stored["rows"][key] = {**figures, "run": run_id}
    # Keep only the runs some row still refers to.
    referred = {row["run"] for row in stored["rows"].values()}
    stored["runs"] = {key: value for key, value in stored["runs"].items() if key in referred}
    print(
        _scorecard.section(
            {"runs": {run_id: run}, "rows": {k: {**v, "run": run_id} for k, v in results.items()}}
        )
    )
    if args.no_write:
        return 0
    _scorecard.save(stored)
    _scorecard.write_doc(stored)
    print(f"bench: wrote {_scorecard.RESULTS.relative_to(ROOT)} and {_scorecard.DOC.relative_to(ROOT)}")
    return 0


def servers(args):
    """--servers: past one machine, measured (docs/benchmarks.md, "Several app servers")."""
    size = (QUICK if args.quick else FULL)["clinic"]
    clinic = _databases.build("clinic", size)
    load_start = os.getloadavg()[0]
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    result = measure_servers(clinic, args.rounds or 3, args.seconds or (2.0 if args.quick else 4.0))
    result["run"] = {
        "command": "make bench" + f' BENCH_ARGS="{" ".join(sys.argv[1:])}"',
        "date": started_at,
        "sizes": f"clinic: seed_demo --size {size:,}",
        "machine": machine(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
    }
    print(_scorecard.servers_section(result))
    if not args.no_write:
        stored = _scorecard.load()
        stored["servers"] = result
        _scorecard.save(stored)
        _scorecard.write_doc(stored)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="detailed benchmarks to run instead (bench/<name>.py)")
    parser.add_argument("--quick", action="store_true", help="small databases (2,000 / 20,000 patients)")
    parser.add_argument("--rows", help="comma-separated rows to measure (default: all)")
    parser.add_argument("--rounds", type=int, help="alternations per row (default 5; quick 3)")
    parser.add_argument(
        "--seconds", type=float, help="seconds per load window of a page (default 4; quick 2)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the figures, write nothing")
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    parser.add_argument(
        "--servers", action="store_true", help="one app server against two, and two through PgBouncer"
    )
    args = parser.parse_args(argv)
    if args.list:
        for row in _scorecard.ROWS:
            print(f"{row.key:22} {row.group:7} {row.label({})}")
        return 0
    if args.names:
        return detailed(args.names)
    if args.servers:
        return servers(args)
    return scorecard(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
