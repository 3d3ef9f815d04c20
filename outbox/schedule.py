"""The task runner's clock. django-tasks runs what is enqueued but has no cron, so the worker
(`manage.py run_worker`) calls tick() every minute: each job of settings.SCHEDULED_TASKS that is due today
(its local time of day has passed) and has not run today is enqueued, once: the ScheduledRun row, unique
per job and day, is what several workers ticking at once race for. The same tick sweeps the outbox
(outbox.services.sweep) and the background exports a stopped worker left (outbox.exports.sweep_exports).
A cron line calling the job's management command still works beside it: the jobs
themselves are idempotent (send_reminders reminds nobody twice)."""

import logging
from datetime import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .exports import sweep_exports
from .models import ScheduledRun
from .services import sweep

log = logging.getLogger(__name__)


def parse_time_of_day(text):
    """ "17:00" -> time(17, 0); ValueError for anything else."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def due_jobs(now=None):
    """The names of the scheduled jobs whose time of day has passed today (clinic time)."""
    local = timezone.localtime(now or timezone.now())
    return [
        name for name, job in settings.SCHEDULED_TASKS.items() if local.time() >= parse_time_of_day(job["at"])
    ]


def tick(now=None):
    """Enqueue every job due today that has not run today, and sweep the outbox. Returns the names of the
    jobs this call enqueued."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    enqueued = []
    for name in due_jobs(now):
        if ScheduledRun.objects.filter(job=name, day=today).exists():
            continue
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=name, day=today)
                result = import_string(settings.SCHEDULED_TASKS[name]["task"]).enqueue()
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another worker enqueued it first
        log.info("scheduled job %s enqueued for %s", name, today)
        enqueued.append(name)
    sweep()
    sweep_exports(now)
    return enqueued
