"""Sign-in lockout per e-mail address, counted from the audit trail (no second store, no process memory).

Every failed sign-in is already an audit row (Action.LOGIN_FAILED, detail "e-mail tried: <address>",
accounts/signals.py), so the count lives in PostgreSQL where every app server sees it. A refused attempt
on a locked address is audited with a different detail (LOCKED_DETAIL), so it does not count: the lock
lifts LOGIN_LOCKOUT_MINUTES after the failures that caused it, however often the address is retried,
or as soon as the password is reset by the e-mailed link.
The one query per attempt uses the partial index audit_login_failed_idx (audit migration 0004).

Attempts on one address are serialised (attempt(): a transaction-scoped advisory lock keyed by the
address), and the failure row is written inside that lock, so parallel guesses from many workers check
at most LOGIN_FAILURE_LIMIT passwords, never more. A wrong second-factor code is a failed sign-in too
(the same row, object_type SECOND_FACTOR), so codes and passwords share one limit.
"""

import contextlib
import contextvars
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from audit.models import Action, AuditEvent
from audit.services import record

FAILED_DETAIL = "e-mail tried: {address}"
LOCKED_DETAIL = "e-mail tried: {address} (refused: locked after too many failed sign-ins)"
MAX_ADDRESS = 254
SECOND_FACTOR = "second factor"

# Set by the backend for the attempt whose audit row it has already written (inside the lock), read once by
# the failed-login receiver so that the row is not written twice. Scoped to the running thread or task,
# never shared between requests.
_recorded = contextvars.ContextVar("login_recorded", default=None)


def now():
    """The current time; tests patch this to step past the window."""
    return timezone.now()


def normalise(address):
    return str(address or "")[:MAX_ADDRESS]


@dataclass(frozen=True)
class Status:
    failures: int  # failed sign-ins counted in the window (at most LOGIN_FAILURE_LIMIT)
    locked_until: object  # aware datetime, or None when the address may try

    @property
    def locked(self):
        return self.locked_until is not None

    def minutes_left(self, at=None):
        seconds = (self.locked_until - (at or now())).total_seconds()
        return max(1, math.ceil(seconds / 60))


def recent_failures(address, at=None):
    """The times of the last LOGIN_FAILURE_LIMIT failures for this address in the window, newest first."""
    at = at or now()
    limit = max(1, settings.LOGIN_FAILURE_LIMIT)
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    since = at - window
    # A password reset by e-mailed link proves the mailbox; guesses at the old password stop counting.
    last_reset = (
        AuditEvent.objects.filter(action=Action.PASSWORD_RESET, actor__email__iexact=normalise(address))
        .order_by("-id")
        .values("at")[:1]
    )
    return list(
        AuditEvent.objects.filter(
            action=Action.LOGIN_FAILED,
            detail__iexact=FAILED_DETAIL.format(address=normalise(address)),
            at__gt=Greatest(
                Value(since, output_field=DateTimeField()),
                Coalesce(Subquery(last_reset), Value(since, output_field=DateTimeField())),
            ),
        )
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )


def status(address, at=None):
    """Whether this address is locked now (one query)."""
    at = at or now()
    times = recent_failures(address, at)
    return status_from(times, at)


def status_from(times, at, *, plus_one_failure=False):
    """Status from recent_failures(); plus_one_failure: as if one more failure happened at `at`."""
    limit = max(1, settings.LOGIN_FAILURE_LIMIT)
    window = timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    times = ([at] + list(times))[:limit] if plus_one_failure else list(times)
    if len(times) < limit:
        return Status(failures=len(times), locked_until=None)
    # Locked while the limit-th newest failure is inside the window.
    return Status(failures=len(times), locked_until=times[limit - 1] + window)


@contextlib.contextmanager
def attempt(address):
    """One sign-in attempt on `address`: a transaction holding an advisory lock keyed by the address
    (lower case), so that attempts on one address from any number of workers run one after another and
    each sees the failures written before it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                ["accounts.lockout:" + normalise(address).lower()],
            )
        yield


def record_failure(address, *, request=None, locked=False, object_type="", object_id=""):
    """The audit row of a failed (or, locked=True, refused) sign-in: what the lockout counts."""
    template = LOCKED_DETAIL if locked else FAILED_DETAIL
    record(
        Action.LOGIN_FAILED,
        request=request,
        user=None,
        object_type=object_type,
        object_id=object_id,
        detail=template.format(address=normalise(address)),
    )


def mark_recorded(address):
    _recorded.set(normalise(address).lower())


def take_recorded(address):
    """True once when the backend has already written this address's failed-login row."""
    recorded = _recorded.get()
    _recorded.set(None)
    return recorded is not None and recorded == normalise(address).lower()
