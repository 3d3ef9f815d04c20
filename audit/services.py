"""The one call every app uses to leave an audit event, the transaction that carries it, and the chain
check behind verify_audit and audit_checkpoint (docs/architecture.md "Audit anchoring")."""

import ipaddress
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import keys
from .models import CANONICAL_FIELDS, Action, AuditEvent, canonical, chain_hash

# Serialises writers so that each row links to the row committed just before it. Taken for the inserts
# (as an audited_transaction() ends, or at once for record() elsewhere), held until the transaction ends.
CHAIN_LOCK = 0x1A5C11
# The lock, then the chain's last hash: raw so that both go in one round trip (see _append_to_chain).
LOCK_THEN_HEAD = (
    'SELECT pg_advisory_xact_lock(%s); SELECT "hash" FROM "audit_auditevent" ORDER BY "id" DESC LIMIT 1'
)
MAX_USER_AGENT = 300
# verify_audit names this many broken events; a rewrite from some row on breaks every row after it.
SHOW_BROKEN = 5


def client_ip(request):
    """The client's address. X-Forwarded-For is believed only as far as our own proxies wrote it: each of
    the TRUSTED_PROXY_COUNT proxies in front of the app appends the address it saw, so the client's is
    that many entries from the right; anything further left was sent by the client and may be forged
    (it would let anyone choose the address the audit trail records). With no proxy, REMOTE_ADDR."""
    proxies = settings.TRUSTED_PROXY_COUNT
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if proxies > 0 and forwarded:
        candidate = forwarded[-min(proxies, len(forwarded))]
    else:
        candidate = request.META.get("REMOTE_ADDR", "")
    try:
        # PostgreSQL's inet hands addresses back in this form; hashing it keeps the chain verifiable.
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        return None


def record(
    action, *, request=None, user=None, obj=None, object_type="", object_id="", patient_id=None, detail=""
):
    """Append one audit event: who (user or request.user), what, on which object and patient, from where.

    Inside audited_transaction() the event is held and inserted with the block's other events as the
    block ends, in the same transaction as the change it describes. Anywhere else it is inserted at once:
    outside a transaction in a transaction of its own, in two round trips (_append_alone); inside a plain
    transaction.atomic() it joins that transaction and holds the chain's lock until the transaction
    commits, so make it the block's last statement there.

    Refuses an action that is not one of audit.models.Action.
    """
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    event = AuditEvent(
        at=timezone.now().astimezone(UTC),
        actor=user,
        actor_email=getattr(user, "email", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        patient_id=patient_id,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:MAX_USER_AGENT] if request is not None else ""),
        detail=detail,
    )
    connection = transaction.get_connection()
    pending = _innermost_pending(connection)
    if pending is not None:
        pending.events.append(event)
    elif connection.get_autocommit() and not connection.in_atomic_block:
        _append_alone(connection, event)
    else:
        with transaction.atomic():
            _append_to_chain([event])
    return event


# --- the transaction an audited change runs in ------------------------------------------------------
@dataclass
class _Pending:
    """The events recorded directly inside one audited_transaction() block, not yet inserted."""

    depth: int  # how many atomic blocks were open inside it (its own included)
    events: list = field(default_factory=list)


def _pending_stack(connection):
    # Kept on the connection: the held events belong to its transaction (and each thread has its own).
    if not hasattr(connection, "audit_pending"):
        connection.audit_pending = []
    return connection.audit_pending


def _depth(connection):
    # Django's stack of open atomic blocks (plain ones, and each audited_transaction's own).
    return len(connection.atomic_blocks)


def _innermost_pending(connection):
    """The held events of the audited block record() runs directly in, or None: outside any, or inside a
    plain atomic block nested in one (that block may roll back on its own, so its events go in at once)."""
    stack = _pending_stack(connection)
    if stack and connection.in_atomic_block and stack[-1].depth == _depth(connection):
        return stack[-1]
    return None


@contextmanager
def audited_transaction():
    """transaction.atomic() for a change that is audited: the record() calls inside it are held, and
    inserted into the chain together as the block ends, just before it commits. The change and its
    audit events commit or roll back together, and the chain's lock is held only for those inserts and
    the commit, never while the block does its work. Nested, it is a savepoint whose events join the
    enclosing audited block's (or are dropped with it when it rolls back)."""
    connection = transaction.get_connection()
    with transaction.atomic():
        stack = _pending_stack(connection)
        pending = _Pending(depth=_depth(connection))
        stack.append(pending)
        try:
            yield
        finally:
            stack.pop()
        if not pending.events or transaction.get_rollback():
            return  # nothing to add, or set_rollback(True): the events go with the block
        if stack and stack[-1].depth == pending.depth - 1:
            stack[-1].events.extend(pending.events)
        else:
            _append_to_chain(pending.events)


# record() outside any transaction (a read's event): two round trips instead of four. The BEGIN goes with
# the lock and the head (the statements run in order, each with its own snapshot: the head is read once the
# lock is held, as in _append_to_chain), the insert with the COMMIT. Raw, a constant string: the ORM's
# BEGIN, insert and COMMIT were three round trips of their own.
BEGIN_LOCK_THEN_HEAD = "BEGIN; " + LOCK_THEN_HEAD
_INSERTED = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_COLUMNS = ", ".join(f'"{field.column}"' for field in _INSERTED)
_PLACEHOLDERS = ", ".join(["%s"] * len(_INSERTED))
# The table and column names from _meta; every value a parameter.
_TABLE = AuditEvent._meta.db_table
INSERT_THEN_COMMIT = f'INSERT INTO "{_TABLE}" ({_COLUMNS}) VALUES ({_PLACEHOLDERS}) RETURNING "id"; COMMIT'  # noqa: S608


def _append_alone(connection, event):
    """Insert `event` after the chain's last row in a transaction of its own, in two round trips. Any error
    on the way (the lock, the head, the hash, the insert, the commit) rolls the transaction back before it
    is raised: no event, the lock released, and the connection left idle as Django believes it is (in
    autocommit); a connection that cannot even roll back is closed, never reused half way through."""
    with connection.cursor() as cursor:
        try:
            cursor.execute(BEGIN_LOCK_THEN_HEAD, [CHAIN_LOCK])
            cursor.nextset()  # the lock's row
            cursor.nextset()
            _link([event], cursor.fetchone())
            values = [
                field.get_db_prep_save(getattr(event, field.attname), connection) for field in _INSERTED
            ]
            cursor.execute(INSERT_THEN_COMMIT, values)
            (event.pk,) = cursor.fetchone()
        except BaseException:
            try:
                cursor.execute("ROLLBACK")
            except Exception:
                connection.close()
            raise
    event._state.adding, event._state.db = False, connection.alias


def _link(events, head):
    """Give each of `events`, in order, the previous hash and its own keyed hash, after `head` (the chain's
    last row, a (hash,) row, or None for an empty chain)."""
    previous = head[0] if head else AuditEvent.GENESIS
    key_id = keys.current_key_id()
    for event in events:
        event.key_id = key_id
        event.previous_hash = previous
        event.hash = event.compute_hash(previous)
        previous = event.hash


def _append_to_chain(events):
    """Insert `events`, in order, after the chain's last row. Called inside a transaction: the lock it
    takes is released when that transaction ends, so no other writer links to a row not yet committed."""
    connection = transaction.get_connection()
    with connection.cursor() as cursor:
        # Two statements in one round trip (psycopg's client-side binding sends them as one simple query).
        # In READ COMMITTED each statement takes its own snapshot when it starts, and the second starts
        # only once the first has the lock: it sees the head the last holder committed. One statement
        # reading the head beside the lock would take its snapshot before waiting, and link to a stale head
        # (tests/audit/test_chain_lock.py: the second writer waits, then links to the first's event).
        cursor.execute(LOCK_THEN_HEAD, [CHAIN_LOCK])
        cursor.nextset()
        head = cursor.fetchone()
    _link(events, head)
    for event in events:
        # One by one (a block holds a handful): each id is drawn after the one before, the chain's order.
        event.save(force_insert=True)


# --- checking the chain ----------------------------------------------------------------------------
@dataclass
class ChainCheck:
    """What one walk along the chain found."""

    events: int = 0  # rows walked (counting from the first row, or the checkpoint started from)
    legacy: int = 0  # of which plain SHA-256 rows from before keyed hashing
    head_id: int | None = None
    head_hash: str = AuditEvent.GENESIS
    broken: list = field(default_factory=list)  # (event id, what it was, why it breaks), in chain order
    checkpoints_reached: list = field(default_factory=list)
    checkpoint_problems: list = field(default_factory=list)

    @property
    def problems(self):
        shown = self.broken[:SHOW_BROKEN]
        chain = [f"Audit chain broken at event {pk} ({what}): {why}." for pk, what, why in shown]
        if len(self.broken) > len(shown):
            chain.append(f"{len(self.broken) - len(shown)} more event(s) further on do not hold either.")
        return chain + self.checkpoint_problems


def _check_row(row, expected_previous, keyed_before):
    """Why `row` (a _Row) breaks the chain after `expected_previous`, or None."""
    if row.previous_hash != expected_previous:
        return "its link to the previous row does not match (a row was removed or re-linked)"
    if row.key_id == keys.LEGACY_KEY_ID and keyed_before:
        return (
            "it carries a plain SHA-256 hash after keyed rows (rows were rewritten with the old unkeyed "
            "hash, which anyone can recompute)"
        )
    content = canonical(**dict(zip(CANONICAL_FIELDS, row.content, strict=True)))
    try:
        expected = chain_hash(row.key_id, row.previous_hash, content)
    except keys.UnknownKey as error:
        return f"it cannot be checked: {error}"
    if not keys.same(expected, row.hash):
        if row.key_id == keys.LEGACY_KEY_ID:
            return "its content does not match its hash (the row was altered)"
        return (
            "its content does not match its keyed hash (the row was altered or forged, or key id "
            f"{row.key_id} is not the key that signed it)"
        )
    return None


class _Row:
    """One stored row as the walk reads it: plain tuples stream faster than model instances or dicts."""

    __slots__ = ("id", "previous_hash", "hash", "key_id", "content")
    COLUMNS = ("id", "previous_hash", "hash", "key_id", *CANONICAL_FIELDS)

    def __init__(self, values):
        self.id, self.previous_hash, self.hash, self.key_id = values[:4]
        self.content = values[4:]

    def describe(self):
        at, _actor, actor_email, action = self.content[:4]
        return f"{at:%Y-%m-%d %H:%M} {actor_email or 'anonymous'} {action}"


def verify_chain(*, checkpoints=(), start=None, batch_size=5000):
    """Walk the chain in id order, streaming, and check every row's link and hash, and that it reaches
    every checkpoint given (audit.checkpoints.Checkpoint): the head event each names is still there with
    the same hash and the same number of events up to it. With `start` (a checkpoint), only the rows
    from its head on are walked, counting on from its count.

    Returns a ChainCheck; its `problems` name each event or checkpoint that does not hold.
    """
    check = ChainCheck()
    expected_previous, keyed_before = AuditEvent.GENESIS, False
    waiting = {}
    for checkpoint in checkpoints:
        if checkpoint.last_id is not None:
            waiting.setdefault(checkpoint.last_id, []).append(checkpoint)
    rows = AuditEvent.objects.order_by("id").values_list(*_Row.COLUMNS)
    if start is not None and start.last_id is not None:
        rows = rows.filter(id__gte=start.last_id)
    # Inside a transaction the cursor streams without being materialised on the server (no WITH HOLD).
    with transaction.atomic():
        iterator = map(_Row, rows.iterator(chunk_size=batch_size))
        if start is not None and start.last_id is not None:
            first = next(iterator, None)
            if first is None or first.id != start.last_id or first.hash != start.last_hash:
                check.checkpoint_problems.append(
                    f"The chain no longer reaches the {start.describe()}: event {start.last_id} "
                    + ("is gone." if first is None or first.id != start.last_id else "has another hash.")
                )
                return check
            check.events = start.count
            check.head_id, check.head_hash = first.id, first.hash
            expected_previous, keyed_before = first.hash, first.key_id != keys.LEGACY_KEY_ID
        for row in iterator:
            reason = _check_row(row, expected_previous, keyed_before)
            if reason is not None:
                check.broken.append((row.id, row.describe(), reason))
            check.events += 1
            check.legacy += row.key_id == keys.LEGACY_KEY_ID
            keyed_before = keyed_before or row.key_id != keys.LEGACY_KEY_ID
            expected_previous = row.hash
            check.head_id, check.head_hash = row.id, row.hash
            for checkpoint in waiting.pop(row.id, ()):
                _compare(check, checkpoint, row)
    for checkpoint in sorted((c for group in waiting.values() for c in group), key=lambda c: c.last_id):
        recorded = f"that checkpoint recorded {checkpoint.count} events up to event {checkpoint.last_id}"
        if check.head_id is None:
            check.checkpoint_problems.append(
                f"The chain does not reach the {checkpoint.describe()}: {recorded}, but the table now holds "
                "no events: it was emptied (TRUNCATE) or every row was deleted."
            )
        elif check.head_id < checkpoint.last_id:
            check.checkpoint_problems.append(
                f"The chain does not reach the {checkpoint.describe()}: {recorded}, but the chain now ends "
                f"at event {check.head_id} ({check.events} events): events were cut from its end."
            )
        else:
            check.checkpoint_problems.append(
                f"The chain does not reach the {checkpoint.describe()}: event {checkpoint.last_id}, the head "
                "it recorded, is gone."
            )
    return check


def _compare(check, checkpoint, row):
    if not keys.same(row.hash, checkpoint.last_hash):
        check.checkpoint_problems.append(
            f"Event {row.id} does not match the {checkpoint.describe()}: its hash changed since (the "
            "chain was rewritten up to there)."
        )
    elif check.events != checkpoint.count:
        check.checkpoint_problems.append(
            f"Event {row.id} does not match the {checkpoint.describe()}: {check.events} events lead up to "
            f"it, the checkpoint counted {checkpoint.count} (events before it were removed or added)."
        )
    else:
        check.checkpoints_reached.append(checkpoint)
