"""Profile one page the way the scorecard serves it, one request at a time (DEBUG=0, the quick bench
database that `make bench BENCH_ARGS="--quick ..."` built; BENCH_SIZE=150000 for the full one):

    .venv/bin/python scripts/localdb.py --test run --superuser -- \
        .venv/bin/python bench/profile_page.py day_view [REPEAT] [--queries] [--save=FILE]

The page names are bench/_calls.py pages()'s (day_view, my_day, search_name, hello ...), each requested
as the same signed-in person the scorecard uses. Prints the median wall time of REPEAT requests and the
page's query count, then cProfile's top functions by cumulative and by own time; --queries prints the
SQL the page runs; --save=FILE writes the page's HTML (to compare before and after a change). Run by
hand: bench/run.py runs only the benchmarks it is given by name.
"""

import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import PRODUCTION, database_url  # noqa: E402

os.environ.update(PRODUCTION)
os.environ["SECURE_SSL_REDIRECT"] = "0"
os.environ.pop("MIGRATION_DATABASE_URL", None)
DATABASE = f"bench_clinic_{os.environ.get('BENCH_SIZE', '2000')}"
if urlparse(os.environ.get("DATABASE_URL", "")).path != f"/{DATABASE}":
    os.environ["DATABASE_URL"] = database_url(os.environ["DATABASE_URL"], DATABASE)
os.environ.setdefault("STATIC_ROOT", str(HERE.parent / "var" / "bench" / "static"))
os.environ.setdefault("STATIC_MANIFEST", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")


def main(name, repeat=20, queries=False, save=None):
    import _calls

    _calls.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    prepared = _calls.pages()
    role, path, htmx = prepared["urls"][name]
    cookie = prepared["cookies"][role]
    client = Client(HTTP_HOST="localhost")
    client.cookies["sessionid"] = cookie
    headers = {"HX-Request": "true"} if htmx else {}

    def get():
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.status_code
        return response

    get()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        get()
        times.append(time.perf_counter() - started)
    print(f"{name} {path}: median {statistics.median(times) * 1000:.1f} ms over {repeat}")
    with CaptureQueriesContext(connection) as captured:
        content = get().content
    size = len(content)
    if save:
        Path(save).write_bytes(content)
    print(f"{len(captured)} queries, {size} bytes")
    if queries:
        for query in captured:
            print(f"  {query['time']}s {query['sql'][:400]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        get()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(int(os.environ.get("PROFILE_LINES", "45")))
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    save = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--save=")), None)
    main(args[0], int(args[1]) if len(args) > 1 else 20, "--queries" in sys.argv, save)
