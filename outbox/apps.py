from django.apps import AppConfig

from accounts.roles import Role

OUTBOX_ROLES = (Role.ADMIN,)
# Who may ask for a background export (the FHIR export: the administrator; reports: the manager).
EXPORT_ROLES = (Role.MANAGER, Role.ADMIN)


class OutboxConfig(AppConfig):
    """E-mail leaves through here: each message is a row (one per idempotency key) that a background
    task on the PostgreSQL task runner sends, retries and records (docs/architecture.md "Background
    tasks")."""

    name = "outbox"
    verbose_name = "Outgoing e-mail"
    # Navigation entries: (label, url name, roles); see accounts/navigation.py.
    navigation = [("E-mail", "outbox:list", OUTBOX_ROLES), ("My exports", "outbox:exports", EXPORT_ROLES)]
