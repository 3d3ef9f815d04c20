"""Appointments' background tasks (docs/architecture.md "Background tasks")."""

from outbox.tasks import task


@task()
def send_reminders():
    """Queue tomorrow's reminders; enqueued once a day by the worker's clock (settings.SCHEDULED_TASKS).
    Returns {"queued": n, "skipped": n}."""
    from .reminders import send_day_before_reminders

    queued, skipped = send_day_before_reminders()
    return {"queued": queued, "skipped": skipped}
