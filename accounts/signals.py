from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.services import record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record(Action.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Never the password: only the address that was tried.
    tried = str(credentials.get("username", ""))[:254]
    record(Action.LOGIN_FAILED, request=request, user=None, detail=f"e-mail tried: {tried}")
