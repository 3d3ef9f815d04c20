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
    password hash, so a locked address costs no hashing. The count, the password check and the failure's
    audit row happen under one lock per address (lockout.attempt), so parallel attempts cannot check more
    passwords than the limit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        with lockout.attempt(username):
            at = lockout.now()
            times = lockout.recent_failures(username, at)
            current = lockout.status_from(times, at)
            if current.locked:
                lockout.record_failure(username, request=request, locked=True)
                lockout.mark_recorded(username)
                if request is not None:
                    request.login_lockout = current
                user = LoginLocked
            else:
                user = super().authenticate(request, username=username, password=password, **kwargs)
                if user is None:
                    lockout.record_failure(username, request=request)
                    lockout.mark_recorded(username)
                    if request is not None:
                        # If this failure is the one that reaches the limit, say so now, not on the next try.
                        after = lockout.status_from(times, at, plus_one_failure=True)
                        if after.locked:
                            request.login_lockout = after
        if user is LoginLocked:
            # Raised once the refusal's row is committed: authenticate() stops at PermissionDenied and
            # sends user_login_failed, whose receiver sees the row is already written.
            raise LoginLocked()
        return user
