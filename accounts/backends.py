from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import lockout


class LoginLocked(PermissionDenied):
    """Too many failed sign-ins for this address; authenticate() turns this into a failed login."""


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses an e-mail address after LOGIN_FAILURE_LIMIT failures within
    LOGIN_LOCKOUT_MINUTES, even with the right password, at every door that calls authenticate():
    /login/, /admin/login/, client.login(), management code. One query per attempt, before the
    password hash, so a locked address costs no hashing."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        at = lockout.now()
        times = lockout.recent_failures(username, at)
        current = lockout.status_from(times, at)
        if current.locked:
            lockout.mark_refused(username, current)
            if request is not None:
                request.login_lockout = current
            # authenticate() stops at PermissionDenied and sends user_login_failed (audited as locked).
            raise LoginLocked()
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and request is not None:
            # If this failure is the one that reaches the limit, say so now rather than on the next try.
            after = lockout.status_from(times, at, plus_one_failure=True)
            if after.locked:
                request.login_lockout = after
        return user
