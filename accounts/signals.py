from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from audit.models import Action
from audit.services import record

from . import lockout, sessions
from .models import User


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record(Action.LOGIN, request=request, user=user)
    if request is not None and hasattr(request, "session"):
        sessions.start(request)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(Action.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # Never the password: only the address that was tried. These rows are what the lockout counts.
    # The lockout backend writes its own row inside the address's lock; anything else is recorded here.
    tried = lockout.normalise(credentials.get("username", credentials.get("email", "")))
    if not lockout.take_recorded(tried):
        lockout.record_failure(tried, request=request)


@receiver(pre_save, sender=User)
def note_credentials_before_save(sender, instance, update_fields=None, **kwargs):
    """Remember the password hash and active flag as stored, to see after the save whether they changed."""
    instance._stored_credentials = None
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return
    instance._stored_credentials = (
        User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    )


@receiver(post_save, sender=User)
def end_sessions_on_new_password_or_deactivation(sender, instance, created, **kwargs):
    """A new password or a deactivation ends every session of that person: whoever held the old password
    or the account is out at once (the password change view keeps the session it was made from)."""
    stored = getattr(instance, "_stored_credentials", None)
    instance._stored_credentials = None
    if created or stored is None:
        return
    password, was_active = stored
    if password != instance.password:
        sessions.end_sessions(instance, reason="password changed")
    elif was_active and not instance.is_active:
        sessions.end_sessions(instance, reason="account deactivated")
