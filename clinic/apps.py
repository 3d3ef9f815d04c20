from django.apps import AppConfig


class ClinicConfig(AppConfig):
    """The project's own room: database roles, health probes, the production checks."""

    name = "clinic"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
