"""Any number of workers, no task run twice (issue 17 part 3): three `manage.py run_worker` processes, each
with its clock, on one test database, racing for 60 e-mails and 3 background exports whose tasks were each
enqueued twice (as the sweep does for a task it believes lost), and for the clock's daily jobs. Each e-mail
reaches the mail backend once, each export is prepared once, each daily job runs once that day. Not marked
`clock`: the processes read the real clock. The figures printed are the ones docs/architecture.md quotes."""

import hashlib
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from audit.models import Action, AuditEvent
from outbox import exports, services
from outbox.models import (
    BackgroundExport,
    EmailStatus,
    ExportChunk,
    ExportStatus,
    OutboundEmail,
    ScheduledRun,
)
from tests.factories import AppointmentFactory, ManagerFactory, PatientFactory

from .conftest import sent_messages, worker_process
from .writers import numbered_lines

pytestmark = pytest.mark.usefixtures("database_tasks")

WORKERS, EMAILS, EXPORTS, LINES = 3, 60, 3, 20000


def read_lines(process, lines):
    for line in process.stdout:
        lines.append(line)


def start_workers(mail_dir):
    arguments = ("--schedule-interval", "0.2", "--interval", "0.1")
    at_midnight = {"REMINDERS_AT": "00:00", "FOLLOW_UPS_AT": "00:00", "EXPORTS_EXPIRE_AT": "00:00"}
    workers, outputs = [], []
    for _ in range(WORKERS):
        worker, lines = worker_process(mail_dir, *arguments, **at_midnight), []
        threading.Thread(target=read_lines, args=(worker, lines), daemon=True).start()
        workers.append(worker)
        outputs.append(lines)
    deadline = time.monotonic() + 120
    while not all(any("Starting worker" in line for line in lines) for lines in outputs):
        assert all(worker.poll() is None for worker in workers), outputs
        assert time.monotonic() < deadline, outputs
        time.sleep(0.2)
    return workers, outputs


def all_done():
    return (
        not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists()
        and not BackgroundExport.objects.exclude(status=ExportStatus.DONE).exists()
        and not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
        and ScheduledRun.objects.exists()
    )


def test_three_workers_run_every_task_once(tmp_path):
    tomorrow = timezone.localtime() + timedelta(days=1)
    AppointmentFactory(
        patient=PatientFactory(email="a@example.test"), start=tomorrow.replace(hour=10, minute=0, second=0)
    )
    manager = ManagerFactory()
    workers, outputs = start_workers(tmp_path)
    try:
        started = time.monotonic()
        for n in range(EMAILS):
            with transaction.atomic():
                email = services.queue_email(
                    key=f"race:{n}",
                    message=EmailMessage(f"Message {n:02d}", "Hello.", None, [f"p{n}@example.test"]),
                )
            services.enqueue(email.pk)  # a second task for the same e-mail
        for n in range(EXPORTS):
            with transaction.atomic():
                export = exports.request_export(
                    by=manager,
                    kind="tests.lines",
                    description=f"export {n}",
                    function="tests.outbox.writers.write_lines",
                    parameters={"count": LINES, "pause": 0.3},
                    filename="lines.txt",
                    content_type="text/plain",
                    roles=[Role.MANAGER],
                )
            exports.enqueue(export.pk)  # and for the same export
        deadline = time.monotonic() + 180
        while not all_done() and time.monotonic() < deadline:
            assert all(worker.poll() is None for worker in workers), outputs
            time.sleep(0.3)
        elapsed = time.monotonic() - started
        time.sleep(2)  # time for a second run of anything, were there to be one
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    assert all_done(), outputs

    # Each e-mail reached the mail backend once, at its first attempt, and was audited once.
    messages = sent_messages(tmp_path)
    subjects = Counter(
        line for message in messages for line in message.splitlines() if line.startswith("Subject:")
    )
    assert len(messages) == EMAILS + 1, outputs  # and tomorrow's reminder
    assert all(count == 1 for count in subjects.values()) and len(subjects) == EMAILS + 1
    assert set(OutboundEmail.objects.values_list("attempts", flat=True)) == {1}
    sent = AuditEvent.objects.filter(action=Action.SEND, object_type="outbox.outboundemail")
    assert sent.count() == EMAILS + 1
    deliveries = DBTaskResult.objects.filter(task_path="outbox.tasks.deliver_email")
    assert deliveries.count() == 2 * EMAILS + 1 and not deliveries.exclude(status="SUCCESSFUL").exists()
    returned = Counter(deliveries.values_list("return_value", flat=True))
    # A duplicate task found its e-mail being sent by another worker, or sent: it did nothing.
    assert set(returned) <= {EmailStatus.SENT, EmailStatus.SENDING}

    # Each export was prepared once, its file whole.
    content = numbered_lines(LINES)
    for export in BackgroundExport.objects.all():
        assert (export.size, export.sha256) == (len(content), hashlib.sha256(content).hexdigest())
        data = b"".join(
            bytes(c)
            for c in ExportChunk.objects.filter(export=export)
            .order_by("number")
            .values_list("data", flat=True)
        )
        assert data == content
    assert AuditEvent.objects.filter(action=Action.UPDATE, detail__contains="prepared").count() == EXPORTS
    runs = DBTaskResult.objects.filter(task_path="outbox.tasks.run_background_export")
    assert runs.count() == 2 * EXPORTS
    assert set(runs.values_list("return_value", flat=True)) <= {ExportStatus.DONE, ExportStatus.RUNNING}

    # Each daily job was enqueued and ran once a day, whichever worker's clock got there first.
    per_job = Counter(ScheduledRun.objects.values_list("job", flat=True))
    assert set(per_job) == set(settings.SCHEDULED_TASKS)
    for job, days in per_job.items():
        task_path = settings.SCHEDULED_TASKS[job]["task"]
        assert DBTaskResult.objects.filter(task_path=task_path, status="SUCCESSFUL").count() == days
        assert days <= 2  # one a day (two only if the test straddled midnight)

    by_worker = Counter(w for ids in DBTaskResult.objects.values_list("worker_ids", flat=True) for w in ids)
    print(
        f"\n{WORKERS} workers: {DBTaskResult.objects.count()} tasks in {elapsed:.1f} s; "
        f"tasks per worker {sorted(by_worker.values())}; e-mails sent {len(messages)} "
        f"(duplicate tasks that found theirs being sent: {returned[EmailStatus.SENDING]}); "
        f"exports prepared {BackgroundExport.objects.filter(status=ExportStatus.DONE).count()}"
    )
    assert len(by_worker) >= 2, "the workers did not share the queue"
