"""The worker's clock (outbox/schedule.py): each scheduled job is enqueued once a day, at or after its
time of day in clinic time, however many workers tick; `manage.py run_worker` ticks for real."""

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from outbox.models import ScheduledRun
from outbox.schedule import tick
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import run_worker

pytestmark = [pytest.mark.clock, pytest.mark.usefixtures("database_tasks")]
REMINDERS = {"send_reminders": {"task": "appointments.tasks.send_reminders", "at": "17:00"}}


def clinic_time(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute))


def reminder_runs():
    return DBTaskResult.objects.filter(task_path="appointments.tasks.send_reminders").count()


def test_nothing_is_enqueued_before_its_time_of_day(settings):
    settings.SCHEDULED_TASKS = REMINDERS
    today = timezone.localdate()
    assert tick(clinic_time(today, 16, 59)) == []
    assert not ScheduledRun.objects.exists() and reminder_runs() == 0


def test_from_its_time_of_day_the_job_is_enqueued_once_a_day(settings):
    settings.SCHEDULED_TASKS = REMINDERS
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    assert tick(clinic_time(today, 17, 0)) == ["send_reminders"]
    assert tick(clinic_time(today, 17, 1)) == []
    assert tick(clinic_time(today, 23, 59)) == []
    assert tick(clinic_time(tomorrow, 0, 1)) == []  # a new day, but not yet its time
    assert tick(clinic_time(tomorrow, 18, 30)) == ["send_reminders"]
    assert sorted(ScheduledRun.objects.values_list("day", flat=True)) == [today, tomorrow]
    assert reminder_runs() == 2


def test_a_day_another_worker_already_enqueued_is_not_enqueued_again(settings):
    settings.SCHEDULED_TASKS = REMINDERS
    today = timezone.localdate()
    ScheduledRun.objects.create(job="send_reminders", day=today)
    assert tick(clinic_time(today, 17, 0)) == []
    assert reminder_runs() == 0


def test_the_worker_runs_the_scheduled_reminders(settings):
    settings.SCHEDULED_TASKS = REMINDERS | {"send_reminders": REMINDERS["send_reminders"] | {"at": "00:00"}}
    tomorrow = timezone.localtime() + timedelta(days=1)
    AppointmentFactory(
        patient=PatientFactory(email="a@example.test"), start=tomorrow.replace(hour=10, minute=0, second=0)
    )
    assert tick() == ["send_reminders"]
    run_worker()  # runs send_reminders, which queues the reminder, whose task the same run picks up
    assert [m.to for m in mail.outbox] == [["a@example.test"]]
    assert mail.outbox[0].subject.startswith("Reminder: your appointment tomorrow")
