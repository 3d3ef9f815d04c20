from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff and roles"
    navigation = []

    def ready(self):
        from . import signals  # noqa: F401  (login, logout and failed-login audit)
