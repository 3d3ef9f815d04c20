from django.apps import AppConfig

from accounts.roles import Role


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"
    navigation = [("Audit trail", "audit:list", (Role.ADMIN,))]
