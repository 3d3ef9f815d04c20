"""Profile one page, one request at a time, in production settings (DEBUG=0) on the quick bench database:
cProfile around django.test.Client().get(url) as the bench's signed-in user, after warm-up requests.

    scripts/localdb.py --test start       then, with the bench database of `make bench --quick`:
    DATABASE_URL="postgresql://postgres@/bench_clinic_2000?host=$PWD/var/test/run" \
        .venv/bin/python bench/_profile_page.py chart [--repeat 20] [--sort tottime] [--limit 60] [--sql]

The page names are those of bench/_calls.py pages() (chart, my_day, ...). Prints the median time per
request, its query count, then the profile of `--repeat` requests.
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
sys.path.insert(0, str(HERE.parent))
sys.path.append(str(HERE))
for key, value in {
    "DJANGO_SETTINGS_MODULE": "clinic.settings",
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-" + "k" * 40,
    "AUDIT_HMAC_KEY": "benchmark-only-audit-key-" + "a" * 20,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "ERROR",
    "SECURE_SSL_REDIRECT": "0",
    "STATIC_ROOT": str(HERE.parent / "var" / "bench" / "static"),
}.items():
    os.environ.setdefault(key, value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sort", default="cumtime")
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--sql", action="store_true", help="print each query of one request and its time")
    parser.add_argument("--callers", help="also print the callers of functions matching this pattern")
    options = parser.parse_args()

    import django

    django.setup()
    import _calls
    from django.db import connection
    from django.test import Client

    pages = _calls.pages()
    role, url, _ = pages["urls"][options.page]
    from django.conf import settings

    client = Client(HTTP_HOST="localhost")

    client.cookies[settings.SESSION_COOKIE_NAME] = pages["cookies"][role]
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
    # request_started resets connection.queries: count through an execute wrapper instead.
    queries = []

    def note(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(note):
        client.get(url)
    times, cpu = [], []
    for _ in range(options.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    print(
        f"{url}: median {statistics.median(times):.1f} ms",
        f"({statistics.median(cpu):.1f} ms of this process's CPU),",
        f"{len(queries)} queries,",
        f"{len(response.content)} bytes",
    )
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(options.repeat):
        client.get(url)
    profile.disable()
    if options.sql:
        for ms, sql in queries:
            print(f"{ms:7.1f} ms  {sql[:300]}")
    stats = pstats.Stats(profile).sort_stats(options.sort)
    stats.print_stats(options.limit)
    if options.callers:
        stats.print_callers(options.callers)


if __name__ == "__main__":
    main()
