from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Audit events and their chain. Every app records events here, so audit imports none of them: the
    role that may read the audit trail page, and its navigation entry, are declared by accounts
    (accounts/apps.py), which holds the roles."""

    name = "audit"
    verbose_name = "Audit trail"
