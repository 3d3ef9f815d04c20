"""Treatments' background tasks (docs/architecture.md "Background tasks")."""

import logging

from outbox.tasks import task

logger = logging.getLogger(__name__)


@task()
def send_follow_ups():
    """E-mail the follow-up questionnaires due today; enqueued once a day by the worker's clock
    (settings.SCHEDULED_TASKS). Returns {"sent": n}."""
    from .followup import send_follow_ups_due

    return {"sent": send_follow_ups_due()}


@task()
def store_visit_summary_task(session_id):
    """Render and store a signed session's visit summary PDF (treatments.summary.store_visit_summary),
    enqueued when a signing or an addendum commits. A failed render is logged and leaves nothing stored:
    the first download renders it. Returns {"stored": bool}."""
    from .models import NeedlingSession
    from .summary import SUMMARY_RELATED, store_visit_summary

    session = NeedlingSession.objects.select_related(*SUMMARY_RELATED).filter(pk=session_id).first()
    if session is None or not session.is_signed:
        return {"stored": False}
    try:
        store_visit_summary(session)
    except Exception:
        logger.exception(
            "visit summary of session %s not rendered; the first download renders it", session_id
        )
        return {"stored": False}
    return {"stored": True}
