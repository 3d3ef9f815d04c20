"""`manage.py run_worker` for real: two worker processes, each with its clock, on one test database. Not
marked `clock`: the processes read the real clock, which `make test-clock` cannot move for them."""

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outbox.models import OutboundEmail, ScheduledRun
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import sent_messages, worker_process

pytestmark = pytest.mark.usefixtures("database_tasks")


def test_two_run_worker_processes_remind_once(tmp_path):
    tomorrow = timezone.localtime() + timedelta(days=1)
    AppointmentFactory(
        patient=PatientFactory(email="a@example.test"), start=tomorrow.replace(hour=10, minute=0, second=0)
    )
    arguments = ("--schedule-interval", "0.2", "--interval", "0.2")
    workers = [worker_process(tmp_path, *arguments, REMINDERS_AT="00:00") for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while not sent_messages(tmp_path) and time.monotonic() < deadline:
            assert all(worker.poll() is None for worker in workers), workers[0].communicate()[0]
            time.sleep(0.5)
        time.sleep(2)  # time for a second reminder, were there to be one
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=30)[0] for worker in workers]
    (message,) = sent_messages(tmp_path)
    assert "To: a@example.test" in message and "Reminder: your appointment tomorrow" in message
    reminders = ScheduledRun.objects.filter(job="send_reminders")
    assert reminders.count() == 1 and OutboundEmail.objects.count() == 1, outputs
