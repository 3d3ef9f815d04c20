"""Appointments' background tasks (docs/architecture.md "Background tasks")."""

from outbox.tasks import task


@task()
def send_reminders():
    """Queue tomorrow's reminders; enqueued once a day by the worker's clock (settings.SCHEDULED_TASKS).
    Returns {"queued": n, "skipped": n}."""
    from .reminders import send_day_before_reminders

    queued, skipped = send_day_before_reminders()
    return {"queued": queued, "skipped": skipped}


@task()
def prune_online_attempts():
    """Delete the online booking's rate-limit counts older than a day; enqueued once a day by the worker's
    clock. Returns {"deleted": n}."""
    from .services.online import prune_attempts

    return {"deleted": prune_attempts()}
