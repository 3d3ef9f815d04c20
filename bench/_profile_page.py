"""Profile one page, one request at a time, in production settings (DEBUG=0), on the quick bench database:

    make bench BENCH_ARGS="--quick --rows session_screen --no-write"     (once: builds bench_clinic_2000)
    .venv/bin/python scripts/localdb.py --test run --superuser -- \
        .venv/bin/python bench/_profile_page.py session_screen [--requests 50] [--sort cumulative] [--top 40]

`page` is a key of bench/_calls.py's pages() (session_screen, chart, my_day, day_view ...). It prints the
median milliseconds per request and of /hello as the same person, the queries of one request, then a
cProfile of `--requests` requests. The database is bench_clinic_<size> on the server DATABASE_URL names.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.append(str(HERE))

import _databases  # noqa: E402
from run import PRODUCTION  # noqa: E402

# The project first: bench/consent.py (a benchmark) must not shadow the consent app.
sys.path[:] = [str(HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("page")
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request")
    args = parser.parse_args()

    os.environ.update(PRODUCTION)
    os.environ["DATABASE_URL"] = _databases.url_for(_databases.name_for("clinic", args.size))
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    # The static files bench/run.py collected (its manifest), as gunicorn serves them in the benchmark.
    os.environ["STATIC_ROOT"] = str(HERE.parent / "var" / "bench" / "static")
    os.environ["STATIC_MANIFEST"] = "1"
    os.environ.pop("MIGRATION_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    import _calls
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    prepared = _calls.pages()
    role, path, htmx = prepared["urls"][args.page]
    client = Client(HTTP_HOST="localhost")
    client.cookies["sessionid"] = prepared["cookies"][role]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def get(url):
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        return response

    def median_ms(url, n):
        times = []
        for _ in range(n):
            started = time.perf_counter()
            get(url)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    get(path)
    get("/hello")
    page_ms, hello_ms = median_ms(path, 20), median_ms("/hello", 20)
    print(f"{path}: {page_ms:.1f} ms; /hello {hello_ms:.1f} ms; ratio {hello_ms / page_ms:.3f}")
    with CaptureQueriesContext(connection) as queries:
        size = len(get(path).content)
    print(f"{len(queries.captured_queries)} queries, {size} bytes")
    if args.queries:
        for query in queries.captured_queries:
            print(f"  {query['sql'][:300]}")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        get(path)
    profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
