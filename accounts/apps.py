from django.apps import AppConfig

from .roles import Role

# The audit trail page is the administrator's. Audit sits below every app and imports none of them
# (docs/architecture.md), so the roles that may read its page are declared here, where the roles live.
AUDIT_TRAIL_ROLES = (Role.ADMIN,)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff and roles"
    # Navigation entries: (label, url name, roles); see accounts/navigation.py.
    navigation = [("Audit trail", "audit:list", AUDIT_TRAIL_ROLES)]

    def ready(self):
        from audit import views as audit_views

        from . import signals  # noqa: F401  (login, logout and failed-login audit)
        from .access import role_required

        role_required(*AUDIT_TRAIL_ROLES)(audit_views.event_list)
