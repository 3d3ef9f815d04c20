"""The outbox's tests run the task runner for real: tasks are rows in PostgreSQL (django-tasks-db's
DatabaseBackend, not the immediate one the rest of the suite uses), run by its worker, in this process
(run_worker()) or as `manage.py run_worker` subprocesses (worker_process())."""

import os
import smtplib
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker

ROOT = Path(__file__).resolve().parents[2]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class FailingBackend(EmailBackend):
    """The locmem backend, whose next `failures` sends are refused as a mail server that hung up would."""

    failures = 0

    def send_messages(self, messages):
        if FailingBackend.failures > 0:
            FailingBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def database_tasks(transactional_db, settings):
    """Tasks enqueued as rows and run by the worker; committed, so a worker process sees them."""
    settings.TASKS = DATABASE_TASKS
    settings.EMAIL_BACKEND = "tests.outbox.conftest.FailingBackend"
    FailingBackend.failures = 0
    yield
    FailingBackend.failures = 0


def run_worker():
    """django-tasks-db's worker, in this process, until no task is ready."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def database_url():
    """The test database's URL, for a worker process: the suite's own (the owner's, as the suite connects
    as the owner), naming the test database."""
    url = urlsplit(os.environ.get("MIGRATION_DATABASE_URL") or os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


def worker_process(mail_dir, *arguments, **environment):
    """`manage.py run_worker` in a process of its own, on the test database, writing its e-mail as files
    into `mail_dir`."""
    env = {key: value for key, value in os.environ.items() if key != "MIGRATION_DATABASE_URL"}
    env |= {
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "EMAIL_URL": f"file://{mail_dir}",
        "DEBUG": "1",
    } | environment
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-startup-delay", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sent_messages(mail_dir):
    """The messages the file-based backend wrote (one file per connection, messages between rules)."""
    messages = []
    for path in sorted(Path(mail_dir).glob("*.log")):
        messages += [part for part in path.read_text().split("-" * 79) if part.strip()]
    return messages
