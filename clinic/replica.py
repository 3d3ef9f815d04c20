"""Reports read from a streaming replica when there is one (DATABASE_REPLICA_URL), and never stale ones.

A view decorated with @reads_from_replica (the reports' dashboards and exports) asks, before it runs, how
far the replica is behind the primary; while that is at most DATABASE_REPLICA_MAX_LAG seconds, its reads
go to the replica, else (and when the replica cannot be reached) to the primary, as if there were none.
So a manager never sees figures older than the limit, and a replica that stopped replaying costs the
primary its load, not the clinic its reports. The choice holds until the response is finished, streamed
exports included (their rows are read after the view returned).

Only the clinical and reports apps' tables are read there (READ_APPS); the audit trail, sessions, staff
and second-factor tables, and every write (the export's audit event too), go to the primary: a replica
refuses writes, and the audit chain must link to the primary's last row.

The reports' raw SQL goes through `reading_connection` (instead of django.db.connection), which is
whichever connection this request reads from.
"""

import logging
import time
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
# Apps whose tables a replica-reading view reads there; all others always come from the primary.
READ_APPS = frozenset({"patients", "consent", "appointments", "treatments", "reports"})

logger = logging.getLogger(__name__)
_reading = ContextVar("clinic_replica_reading", default=DEFAULT_DB_ALIAS)


def replica_configured():
    return REPLICA in settings.DATABASES


# How long a report waits for a replica that is behind to replay what the primary had written when asked
# (at most DATABASE_REPLICA_MAX_LAG), and how often it looks meanwhile.
CATCH_UP_WAIT = 1.0
CATCH_UP_POLL = 0.02

_REPLAYED = (
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
    " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
)


def replica_lag(wait=0.0):
    """Seconds the replica is behind the primary: 0 when it has replayed everything the primary had
    written when asked, else the age of the last transaction it replayed (so the rows it lacks are all
    younger than that). None when the replica cannot be reached or is not replaying at all.

    "Written" is the primary's insert position, not its write position (pg_current_wal_lsn): with
    asynchronous commit (synchronous_commit=off) a transaction is visible on the primary before the WAL
    writer writes its commit record, so a replica level with the write position can lack it.

    The age says how long ago the primary last committed before what the replica lacks, not how far
    behind the replica is: after a quiet spell it is the length of the spell (and unknown, None, on a
    replica that has replayed nothing since it started), even when the replica lacks only the write of a
    moment ago. So when it is unknown or more than `wait`, this waits up to `wait` seconds for the replica
    to replay what the primary had written when asked; one that does is the seconds that took behind."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        (primary_position,) = cursor.fetchone()
    asked = time.monotonic()
    with connections[REPLICA].cursor() as cursor:
        first = True
        while True:
            cursor.execute(_REPLAYED, [primary_position])
            in_recovery, caught_up, age = cursor.fetchone()
            waited = time.monotonic() - asked
            if not in_recovery:
                return None  # promoted, or not a replica at all: not the copy this setting promised
            if caught_up:
                return 0.0 if first else waited
            age = None if age is None else max(0.0, float(age))
            if waited >= wait or (age is not None and age <= wait):
                return age
            first = False
            time.sleep(CATCH_UP_POLL)


def choose_reading_database():
    """The alias this request's reports read from: the replica while it is fresh enough, else the primary."""
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    try:
        lag = replica_lag(wait=min(CATCH_UP_WAIT, settings.DATABASE_REPLICA_MAX_LAG))
    except DatabaseError as error:
        logger.warning("Replica unavailable, reports read from the primary: %s", error)
        connections[REPLICA].close()
        return DEFAULT_DB_ALIAS
    if lag is None or lag > settings.DATABASE_REPLICA_MAX_LAG:
        behind = "not replaying" if lag is None else f"{lag:.1f} s behind"
        logger.warning("Replica %s, reports read from the primary", behind)
        return DEFAULT_DB_ALIAS
    return REPLICA


def reading_database():
    return _reading.get()


def reads_from_replica(view):
    """Let `view` read the reports' tables from the replica while it is fresh (see the module's doc)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        _reading.set(choose_reading_database())
        return view(request, *args, **kwargs)

    return wrapped


def _back_to_primary(**kwargs):
    _reading.set(DEFAULT_DB_ALIAS)


# Set in the view, read until the response (a stream) is finished, then forgotten before the next request.
request_started.connect(_back_to_primary, dispatch_uid="clinic.replica.start")
request_finished.connect(_back_to_primary, dispatch_uid="clinic.replica.finish")


class ReadingConnection:
    """django.db.connection, but the connection this request reads the reports from."""

    def __getattr__(self, name):
        return getattr(connections[_reading.get()], name)


reading_connection = ReadingConnection()


class ReplicaRouter:
    """Reads of READ_APPS inside a replica-reading view go to the replica; everything else, and every
    write, to the primary. Migrations run on the primary only (the replica follows it)."""

    def db_for_read(self, model, **hints):
        alias = _reading.get()
        if alias != DEFAULT_DB_ALIAS and model._meta.app_label in READ_APPS:
            return alias
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies of it

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
