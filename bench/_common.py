"""What every benchmark under bench/ shares: its own database on the server DATABASE_URL names, and
timing a call over many runs. Imported as `_common` (the script's folder is on sys.path); bench/run.py
skips files starting with an underscore."""

import os
import statistics
import sys
import time
from urllib.parse import urlparse

import psycopg


def ensure_database(url):
    """Create the database named in `url` on its server when it does not exist yet."""
    name = urlparse(url).path.lstrip("/")
    server = url.replace(f"/{name}", "/postgres", 1)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def timed(run, repeat, *, worst=False):
    """Median and 95th percentile (or, with worst=True, the slowest) wall time in milliseconds of
    `repeat` runs after one warm-up."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    tail = times[-1] if worst else times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), tail


def prepare_database():
    """Create (if missing) and migrate the database DATABASE_URL names, with Django set up on it.
    False, with a message, when DATABASE_URL is not set."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        print("Set DATABASE_URL to the benchmark database (it is created if missing).", file=sys.stderr)
        return False
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return True


def pass_second_factor(client, user):
    """After client.force_login(user): mark the session verified as a good authenticator code does
    (django_otp.login), with the user's authenticator made once for the benchmark."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Benchmark authenticator", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
