import logging
import threading

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from outbox.schedule import tick

log = logging.getLogger("outbox.schedule")


def keep_time(interval, stop):
    """Call tick() every `interval` seconds until `stop` is set; an error is logged, not fatal."""
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("the scheduler's tick failed; trying again in %s s", interval)
        finally:
            close_old_connections()
        stop.wait(interval)


class Command(DatabaseWorkerCommand):
    help = (
        "Run the background worker (django-tasks-db's db_worker: e-mails, large exports) and its clock, "
        "which enqueues the scheduled jobs (settings.SCHEDULED_TASKS, e.g. send_reminders) once a day "
        "and sweeps the outbox every minute. Run one or more beside the web servers."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=60,
            help="Seconds between the clock's ticks (default: 60). 0 runs no clock (a worker only).",
        )
        # Restarting on code changes would start a second clock in the reloader's parent process.
        parser.set_defaults(reload=False)

    def handle(self, *args, schedule_interval=60, **options):
        stop = threading.Event()
        if schedule_interval > 0 and not options.get("batch"):
            threading.Thread(target=keep_time, args=(schedule_interval, stop), daemon=True).start()
        try:
            return super().handle(*args, **options)
        finally:
            stop.set()
