from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import Action
from audit.services import record

from . import lockout


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record(Action.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Never the password: only the address that was tried. These rows are what the lockout counts.
    tried = lockout.normalise(credentials.get("username", credentials.get("email", "")))
    template = lockout.LOCKED_DETAIL if lockout.take_refused(tried) else lockout.FAILED_DETAIL
    record(Action.LOGIN_FAILED, request=request, user=None, detail=template.format(address=tried))
