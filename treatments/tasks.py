"""Treatments' background tasks (docs/architecture.md "Background tasks")."""

from outbox.tasks import task


@task()
def send_follow_ups():
    """E-mail the follow-up questionnaires due today; enqueued once a day by the worker's clock
    (settings.SCHEDULED_TASKS). Returns {"sent": n}."""
    from .followup import send_follow_ups_due

    return {"sent": send_follow_ups_due()}
