from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    """The project's own room: database roles, health probes, the production checks, and the clinic's
    time zone as the database holds it (clinic/time_zone.py)."""

    name = "clinic"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .time_zone import keep_time_zone

        post_migrate.connect(keep_time_zone, sender=self)
