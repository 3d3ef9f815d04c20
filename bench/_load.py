"""Pages as a clinic feels them: gunicorn (the repository's gunicorn.conf.py, 4 sync workers, DEBUG=0) and
8 clients asking at once, each page alternated with /hello behind the same middleware.

The load generator is our own, on purpose: 8 threads, each opening a connection per request with the
standard library's http.client (gunicorn's sync workers close every connection anyway) and reading the
whole answer. The machine has 2 cores for the server, PostgreSQL and the clients together, so the client
must cost as little as possible per request: locust (gevent, its own statistics and web UI) or httpx (an
async stack over h11) spend several times more CPU per request than http.client does, CPU taken from the
server being measured and most of all from /hello, whose rate would then measure the client. Threads
are enough: a client thread spends its time waiting on the socket, with the GIL released.

A page's figure is the median, over rounds, of its requests per second divided by those of /hello in
the window just before it, with the same person's cookie: what the page itself costs on top of the
framework, measured so that load from elsewhere on the machine slows both alike.
"""

import http.client
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTPS = {"X-Forwarded-Proto": "https"}  # the proxy's word that the client used HTTPS (README "Deploying")


def fetch(port, path, cookie, htmx=False):
    """(status, seconds) of one GET, the body read to its end."""
    headers = {**HTTPS, "Host": "127.0.0.1", "Cookie": f"sessionid={cookie}"}
    if htmx:
        headers["HX-Request"] = "true"
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status, time.perf_counter() - started
    finally:
        conn.close()


def window(port, path, cookie, *, htmx=False, clients=8, seconds=3.0):
    """Requests per second, median latency (s) and failures of `clients` threads asking for `path` as
    fast as answers come, for `seconds`. A request running when the time is up is not counted. `port`
    may be a list: each client then sends its requests to the servers in turn, as a load balancer would."""
    deadline = time.perf_counter() + seconds
    latencies, failures = [], []
    lock = threading.Lock()
    ports = port if isinstance(port, list | tuple) else [port]

    def client(number):
        turn = number
        while True:
            turn += 1
            try:
                status, took = fetch(ports[turn % len(ports)], path, cookie, htmx)
            except OSError as error:
                status, took = str(error), 0
            if time.perf_counter() > deadline:
                return
            with lock:
                (latencies if status == 200 else failures).append(took if status == 200 else status)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = min(time.perf_counter(), deadline) - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) if latencies else None,
        "failures": failures[:5],
        "failed": len(failures),
        "requests": len(latencies),
    }


def measure_page(port, path, cookie, *, htmx=False, rounds=3, seconds=3.0, clients=8):
    """The page alternated with /hello (same cookie): median ratio of requests per second, and the
    page's median latency over its rounds."""
    window(port, path, cookie, htmx=htmx, clients=clients, seconds=1.0)  # every worker renders it once
    ratios, latencies, hello_rates, rates, failed = [], [], [], [], 0
    for _ in range(rounds):
        hello = window(port, "/hello", cookie, clients=clients, seconds=seconds)
        page = window(port, path, cookie, htmx=htmx, clients=clients, seconds=seconds)
        failed += page["failed"] + hello["failed"]
        if page["failed"] or hello["failed"]:
            print(f"bench: {path}: failures {page['failures'] or hello['failures']}", file=sys.stderr)
        if hello["rps"] and page["p50"] is not None:
            ratios.append(page["rps"] / hello["rps"])
            latencies.append(page["p50"])
            hello_rates.append(hello["rps"])
            rates.append(page["rps"])
    return {
        "ratio": statistics.median(ratios) if ratios else None,
        "p50_s": statistics.median(latencies) if latencies else None,
        "rps": statistics.median(rates) if rates else None,
        "hello_rps": statistics.median(hello_rates) if hello_rates else None,
        "failed": failed,
    }


class Gunicorn:
    """gunicorn -c gunicorn.conf.py clinic.wsgi on a local port, with `env`, until stopped."""

    def __init__(self, env, port, workers=4, log=None):
        self.port = port
        self.log = open(log or "/dev/null", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "clinic.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start; see {log}")
            time.sleep(0.3)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
