"""Sessions that end: the session engine (SESSION_ENGINE = "accounts.sessions"), the idle and absolute
limits, and ending a person's sessions.

- Idle: a session unused for SESSION_IDLE_MINUTES ends at its next request.
- Absolute: a login lasts at most SESSION_COOKIE_AGE seconds from the login, however active.
- A password change (own, by reset link or by an administrator) or a deactivation ends every session of
  that person (accounts/signals.py); the password change keeps the session it was made from.
- A person sees their sessions on "Security" and ends any of the others.
A request that arrives on an ended session is sent to the login page and back to where it was; an htmx
request is told to load the login page itself (HX-Redirect), with the page the person was on as `next`,
and static/js/keep-drafts.js restores what they had typed in a form marked data-keep-draft.
Every signed-in page is sent with Cache-Control: no-store: they show patient data or staff settings.
"""

import hashlib
import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.cache import patch_cache_control

from audit.models import Action
from audit.services import audited_transaction, client_ip, record

LOGIN_AT = "login_at"
LAST_SEEN = "last_seen"
LOGIN_IP = "login_ip"
LOGIN_AGENT = "login_agent"
# The last-seen time is written at most this often (one UPDATE a minute, not one per request).
TOUCH_SECONDS = 60


class SessionStore(DatabaseSessionStore):
    """Django's database sessions, in accounts.StaffSession, whose columns say whose session it is."""

    @classmethod
    def get_model_class(cls):
        from .models import StaffSession

        return StaffSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        session.user_id = int(user_id) if str(user_id or "").isdigit() else None
        session.started_at = _from_epoch(data.get(LOGIN_AT))
        session.last_seen_at = _from_epoch(data.get(LAST_SEEN))
        session.ip_address = data.get(LOGIN_IP) or None
        session.user_agent = str(data.get(LOGIN_AGENT) or "")[:300]
        return session


def _from_epoch(value):
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int | float) else None


def start(request):
    """Called at login: when and where this session started."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[LOGIN_IP] = client_ip(request)
    request.session[LOGIN_AGENT] = request.META.get("HTTP_USER_AGENT", "")[:300]


def limit_passed(session, now=None):
    """Which limit an authenticated session has passed ("idle" or "absolute"), or None."""
    now = now or time.time()
    last_seen = session.get(LAST_SEEN)
    login_at = session.get(LOGIN_AT)
    if isinstance(login_at, int | float) and now - login_at > settings.SESSION_COOKIE_AGE:
        return "absolute"
    if isinstance(last_seen, int | float) and now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


def touch(session, now=None):
    now = int(now or time.time())
    if LOGIN_AT not in session:
        session[LOGIN_AT] = now
    last_seen = session.get(LAST_SEEN)
    if not isinstance(last_seen, int | float) or now - last_seen >= TOUCH_SECONDS:
        session[LAST_SEEN] = now


def describe(reason):
    if reason == "idle":
        return f"idle for more than {settings.SESSION_IDLE_MINUTES} minutes"
    return f"older than the {settings.SESSION_COOKIE_AGE // 3600} hour limit"


class SessionLimitsMiddleware:
    """Ends a session past its idle or absolute limit (audited), keeps its last-seen time, and marks every
    signed-in response no-store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            reason = limit_passed(request.session)
            if reason is not None:
                record(
                    Action.SESSION_END, request=request, user=user, detail=f"this session: {describe(reason)}"
                )
                request.session.flush()
                request.user = AnonymousUser()
                request.session_ended = reason
            else:
                touch(request.session)
        response = self.get_response(request)
        if getattr(request, "session_ended", None) or (user is not None and user.is_authenticated):
            # Patient data and staff settings: never kept by the browser or a proxy (back button included).
            patch_cache_control(response, no_store=True, private=True)
        return response


# --- a person's sessions --------------------------------------------------------------------------------
def handle(session_key):
    """A session's name in pages and forms: never the key itself, which would let a script that can read
    the page take over the session (the cookie is HttpOnly)."""
    return hashlib.sha256(("staff-session:" + settings.SECRET_KEY + session_key).encode()).hexdigest()[:32]


def sessions_of(user):
    """The person's live sessions, newest first."""
    from .models import StaffSession

    return list(
        StaffSession.objects.filter(user=user, expire_date__gt=timezone.now()).order_by("-started_at", "-pk")
    )


def end_sessions(user, *, reason, keep=None, request=None, by=None, only=None):
    """End sessions of `user` (all of them, all but the session key `keep`, or the one whose handle is
    `only`), audited with `reason`. Returns how many ended."""
    from .models import StaffSession

    sessions = StaffSession.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    keys = list(sessions.values_list("session_key", flat=True))
    if only is not None:
        keys = [key for key in keys if handle(key) == only]
    if not keys:
        return 0
    with audited_transaction():
        ended, _ = StaffSession.objects.filter(session_key__in=keys).delete()
        record(
            Action.SESSION_END,
            request=request,
            user=by or (request.user if request is not None and request.user.is_authenticated else None),
            obj=user,
            detail=f"{ended} session{'' if ended == 1 else 's'} of {user.email} ended: {reason}",
        )
    return ended
