import http.client
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from clinic.database_roles import app_role, owner_credentials

ROOT = Path(__file__).resolve().parents[2]


def load_script(name):
    """A module of scripts/ (localdb, backup), imported from its file."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


localdb = load_script("localdb")


def app_url():
    """DATABASE_URL (the app role) pointed at this worker's test database. Skips, saying why, when the
    suite runs with one role for both: then there is no app role to show anything about."""
    owner = owner_credentials()
    if owner is None or owner["USER"] == app_role():
        pytest.skip(
            "MIGRATION_DATABASE_URL is not set, so the app and the owner are one role; `make test` sets both "
            "(scripts/localdb.py), a deployment's suite needs both too"
        )
    return urlparse(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]).geturl()


@pytest.fixture
def app_database_url(transactional_db):
    """The app role's URL for the test database (rows the test commits as the owner are visible to it)."""
    return app_url()


@pytest.fixture
def as_app(app_database_url):
    """A psycopg connection to the test database as the app role, in autocommit: each statement stands
    alone, as a request's would after a refused one."""
    with psycopg.connect(app_database_url, autocommit=True) as app:
        yield app


def command_environment(**overrides):
    """This process's environment for a child manage.py, gunicorn or script, without the test
    database's URLs (the caller gives its own) and with `overrides`."""
    unset = {"DATABASE_URL", "MIGRATION_DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def production_environment(database_url, **overrides):
    """What a production app server gets (README "Deploying"): DEBUG off, a key, its host, the app
    role's URL alone; TLS is the proxy's (requests say X-Forwarded-Proto: https)."""
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "smoke-test-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "1",
        "STATIC_MANIFEST": "1",
        "DATABASE_URL": database_url,
    }
    return command_environment(**{**production, **overrides})


def manage(*args, env, timeout=300):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def cookies(self):
        """{name: full Set-Cookie value}."""
        return {value.split("=", 1)[0]: value for value in self.headers.get_all("Set-Cookie") or []}


def fetch(base, path, method="GET", body=None, headers=None):
    """One request, redirects not followed."""
    address = urlparse(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return Response(answer.status, answer.headers, answer.read().decode("utf-8", "replace"))
    finally:
        conn.close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env, tmp_path):
    """gunicorn serving clinic.wsgi on a free local port with `env`; yields its base URL."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clinic.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(base, "/healthz").status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass
class ScratchClinic:
    cluster: object
    var: Path
    env: dict

    def app_url(self):
        return self.cluster.url(localdb.APP)


@pytest.fixture(scope="session")
def scratch_clinic():
    """A PostgreSQL cluster of its own with the run cluster's (durable) settings, under var/scratch/,
    migrated as the owner and seeded as the app role, as `make run` does: for the tests that crash,
    stop, back up and restore a server, which the shared test cluster must not suffer. Mark those tests
    xdist_group("scratch_clinic") so one worker builds it."""
    scratch = ROOT / "var" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="suite-", dir=scratch))
    cluster = localdb.Cluster("run", var)
    try:
        localdb.start(cluster)
        # Its own audit checkpoint folder too: never the one of the clinic's records in var/.
        env = command_environment(
            DEBUG="1",
            LOCALDB_VAR=var,
            AUDIT_CHECKPOINT_DIR=var / "audit-checkpoints",
            **localdb.environment(cluster),
        )
        manage("migrate", "-v", "0", env=env)
        manage("seed_demo", "--size", "3", "--quiet", env=env)
        manage("shell", "-v", "0", "-c", AUDIT_EVENTS, env=env)
        yield ScratchClinic(cluster, var, env)
    finally:
        localdb.stop(cluster, mode="immediate")
        shutil.rmtree(var, ignore_errors=True)


# A few audit events for verify_audit to check on a restored copy (seed_demo records none).
AUDIT_EVENTS = """
from accounts.models import User
from audit.models import Action
from audit.services import record
for patient_id in range(1, 6):
    record(Action.VIEW, user=User.objects.first(), object_type="patients.patient", object_id=str(patient_id))
"""
