"""The outbox's background task, run by the worker (`manage.py run_worker`, or django-tasks-db's
`db_worker`). Django 6 has the Tasks API built in (django.tasks); on 5.2 the django-tasks backport
provides the same names."""

try:
    from django.tasks import task
except ImportError:  # Django 5.2
    from django_tasks import task


@task()
def deliver_email(email_id):
    """Send outbox e-mail `email_id` if it is still due (outbox.services.deliver)."""
    from .services import deliver

    return deliver(email_id)


@task()
def run_background_export(export_id):
    """Prepare background export `export_id` if it is still queued (outbox.exports.run_export)."""
    from .exports import run_export

    return run_export(export_id)


@task()
def expire_exports():
    """Delete the files of expired background exports; enqueued once a day by the clock."""
    from .exports import expire_exports

    return {"expired": expire_exports()}
