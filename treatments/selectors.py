"""Reads of the treatments tables that pages make on every request, written as fixed SQL (a constant string
with parameters) where Django compiling the query and building model objects cost more than PostgreSQL
answering it (issue 17): the sessions and drafts My day lists as plain values, and the point form's
catalogue. Tests hold each to the ORM query it replaced (tests/treatments/test_my_day_values.py,
tests/treatments/test_point_catalogue.py)."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from accounts.models import User
from clinic.model_rows import built, columns, slices
from patients.models import Patient
from patients.names import PatientName

from .models import (
    FollowUp,
    Incident,
    Muscle,
    NeedlePoint,
    NeedleSize,
    NeedlingSession,
    PointRemoval,
    SideEffect,
)

_sessions = NeedlingSession._meta.db_table


@dataclass(frozen=True, slots=True)
class SessionLink:
    """What My day shows of an appointment's session: its link, and whether it is signed."""

    pk: int
    appointment_id: int
    signed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DraftSession:
    """A draft waiting for its clinician's signature, as My day lists it."""

    pk: int
    started_at: datetime
    patient: PatientName


SESSIONS_OF_APPOINTMENTS = f"""
    SELECT id, appointment_id, signed_at FROM {_sessions} WHERE appointment_id = ANY(%s)
"""  # noqa: S608 - the table name from _meta; every value a parameter


def sessions_of_appointments(appointment_ids):
    """{appointment id: SessionLink} of the appointments that have a session (one each at most: the
    session's appointment is one-to-one). One query; none for no appointments."""
    if not appointment_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(SESSIONS_OF_APPOINTMENTS, [list(appointment_ids)])
        return {row[1]: SessionLink(*row) for row in cursor.fetchall()}


# Served by session_draft_idx (migration 0015): a clinician's few drafts among their thousands of signed
# sessions, newest first, without reading the signed ones.
DRAFTS_OF = f"""
    SELECT s.id, s.started_at, p.family_name, p.given_name, p.preferred_name
    FROM {_sessions} s JOIN {Patient._meta.db_table} p ON p.id = s.patient_id
    WHERE s.clinician_id = %s AND s.signed_at IS NULL
    ORDER BY s.started_at DESC, s.id DESC
    LIMIT %s
"""  # noqa: S608 - the table names from _meta; every value a parameter


def drafts_of(clinician, *, limit=20):
    """[DraftSession] of the clinician's unsigned sessions, newest first, at most `limit`. One query."""
    with connection.cursor() as cursor:
        cursor.execute(DRAFTS_OF, [getattr(clinician, "pk", clinician), limit])
        return [
            DraftSession(pk, started_at, PatientName(family_name, given_name, preferred_name))
            for pk, started_at, family_name, given_name, preferred_name in cursor.fetchall()
        ]


# In the models' field order: from_db takes them so.
MUSCLE_COLUMNS = (
    "id", "name", "body_region", "risk_region", "advisory_max_depth_mm", "advisory_depth_source",
    "segment_applies", "active",
)  # fmt: skip
NEEDLE_COLUMNS = ("id", "gauge_mm", "length_mm", "active")  # from_db takes them in the model's field order

# Raw (constant strings, parameters only): the point form is on every session screen, and the ORM took
# longer to build its three reads than PostgreSQL took to run them. Three statements sent as one simple
# query (psycopg's client-side binding): one round trip.
# Statement 1: the active muscles (of one body region when given), by name, as
# Muscle.objects.filter(active=True)[.filter(body_region=region)].order_by("name"). Statement 2: the active
# needle sizes in NeedleSize's order (gauge, then length). Each begins with the SHA-256 of its rows (every
# column, in id order) and carries the rows themselves only when that digest is not the one this process
# already holds them under (`muscles_known`, `needles_known`): a muscle or needle size added, renamed,
# retired or changed in any way, through the admin or raw SQL, changes the digest, so the next page reads
# the rows again; the rows and their digest come from one statement, of one moment. Statement 3: the
# needle size of the clinician's last point not removed, as treatments.services.last_needle_size() reads
# it (active or not); the needle size read outside the point's subquery (three tables to plan, not four:
# planning was most of its time). tests/treatments/test_point_catalogue.py holds each to its ORM definition.
_CATALOGUE_DIGEST = (
    "encode(sha256(convert_to(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), ''), 'UTF8')), 'hex')"
)
POINT_CATALOGUE_SQL = f"""
    WITH t AS (
        SELECT m.id, m.name, m.body_region, m.risk_region, m.advisory_max_depth_mm, m.advisory_depth_source,
               m.segment_applies, m.active
        FROM treatments_muscle m
        WHERE m.active AND (%(region)s::text IS NULL OR m.body_region = %(region)s::text)
    ), d AS (SELECT {_CATALOGUE_DIGEST} AS digest FROM t)
    SELECT d.digest, t.* FROM d LEFT JOIN t ON d.digest IS DISTINCT FROM %(muscles_known)s::text
    ORDER BY t.name;
    WITH t AS (
        SELECT n.id, n.gauge_mm, n.length_mm, n.active FROM treatments_needlesize n WHERE n.active
    ), d AS (SELECT {_CATALOGUE_DIGEST} AS digest FROM t)
    SELECT d.digest, t.* FROM d LEFT JOIN t ON d.digest IS DISTINCT FROM %(needles_known)s::text
    ORDER BY t.gauge_mm, t.length_mm;
    SELECT n.id, n.gauge_mm, n.length_mm, n.active FROM treatments_needlesize n WHERE n.id = (
        SELECT p.needle_size_id
        FROM treatments_needlepoint p
        JOIN treatments_needlingsession s ON s.id = p.session_id
        WHERE s.clinician_id = %(clinician)s
          AND NOT EXISTS (SELECT 1 FROM treatments_pointremoval r WHERE r.point_id = p.id)
        ORDER BY s.started_at DESC, p."order" DESC
        LIMIT 1
    )"""  # noqa: S608 - a constant of this module; every value a parameter


@dataclass
class PointCatalogue:
    """What the point form offers: the muscles (of a region), the needle sizes, and the needle size the
    clinician used last (None without a clinician or a point). `muscles_digest` and `needles_digest`: the
    SHA-256 of the rows each list was built from (None when built otherwise), under which the point form
    keeps the choices it writes of them. The lists may be shared between requests: read them, never
    change them."""

    muscles: list
    needle_sizes: list
    last_needle_size: NeedleSize | None = None
    muscles_digest: str | None = None
    needles_digest: str | None = None


# This process's muscles (by region) and needle sizes, each under the digest of the rows they were built
# from: (digest, [instances]). A handful of entries: one per body region and one for all.
_kept = {}


def _kept_rows(key, rows, build):
    """The instances of one catalogue statement's `rows` ((digest, *columns), the columns all None when
    the digest is the one kept), kept under their digest, and that digest."""
    digest = rows[0][0]
    kept = _kept.get(key)
    if kept is not None and kept[0] == digest:
        return kept
    kept = (digest, [build(row[1:]) for row in rows if row[1] is not None])
    _kept[key] = kept
    return kept


def forget_kept_catalogue():
    """Empty this process's kept muscles and needle sizes (tests)."""
    _kept.clear()


def point_catalogue(*, region=None, clinician_id=None):
    """The point form's muscles (active, of `region` when given, by name), needle sizes (active) and the
    clinician's last needle size, as model instances: one query. The muscles and needle sizes are read
    from the database only when their digest changed since this process last read them."""
    region = region or None
    muscles_key, needles_key = ("muscles", region), ("needles",)
    params = {
        "region": region,
        "clinician": clinician_id,
        "muscles_known": _kept.get(muscles_key, (None,))[0],
        "needles_known": _kept.get(needles_key, (None,))[0],
    }
    with connection.cursor() as cursor:
        cursor.execute(POINT_CATALOGUE_SQL, params)
        muscle_rows = cursor.fetchall()
        cursor.nextset()
        needle_rows = cursor.fetchall()
        cursor.nextset()
        last = cursor.fetchone()
    muscles_digest, muscles = _kept_rows(
        muscles_key, muscle_rows, lambda values: Muscle.from_db("default", MUSCLE_COLUMNS, values)
    )
    needles_digest, needle_sizes = _kept_rows(
        needles_key, needle_rows, lambda values: NeedleSize.from_db("default", NEEDLE_COLUMNS, values)
    )
    return PointCatalogue(
        muscles=muscles,
        needle_sizes=needle_sizes,
        last_needle_size=None if last is None else NeedleSize.from_db("default", NEEDLE_COLUMNS, last),
        muscles_digest=muscles_digest,
        needles_digest=needles_digest,
    )


@dataclass(frozen=True, slots=True)
class ChartFollowUp:
    """What the chart's session history shows of a session's next-day follow-up (treatments/chart.py)."""

    answered_at: datetime | None
    soreness: int | None
    bruising: bool | None
    short_of_breath: bool
    chest_pain: bool
    pain_breathing_in: bool

    # The model's own definition of the warning signs, read from these values.
    warning_signs = property(FollowUp.warning_signs.fget)


@dataclass(slots=True)
class ChartSession:
    """A session as the chart's session history and course of care show it: the attributes of a
    NeedlingSession they read, its clinician as written (User.__str__), its follow-up, the body region of
    each needled point (in region order; a point removed as entered in error is not one), its side
    effects' types and severities (in the order recorded), and how many sessions the patient has in all.
    Not frozen: the course of care adds what it draws of each (treatments/course.py)."""

    pk: int
    started_at: datetime
    pain_before: int | None
    pain_after: int | None
    signed_at: datetime | None
    review_on: date | None
    clinician: str
    follow_up: ChartFollowUp | None
    point_regions: list
    effect_types: list
    effect_severities: list
    patient_sessions: int
    needled: int = 0
    regions: list = field(default_factory=list)
    effects: list = field(default_factory=list)

    @property
    def point_count(self):
        return len(self.point_regions)


_follow_ups, _users = FollowUp._meta.db_table, User._meta.db_table
_points, _removals = NeedlePoint._meta.db_table, PointRemoval._meta.db_table
_effects, _muscles = SideEffect._meta.db_table, Muscle._meta.db_table
# The patient's latest sessions with what the chart shows of each. The count of all the patient's
# sessions is one uncorrelated subquery (run once), the points' regions and the side effects each one
# LATERAL aggregate per session.
LATEST_SESSIONS = f"""
    SELECT s.id, s.started_at, s.pain_before, s.pain_after, s.signed_at, s.review_on,
           u.full_name, u.email,
           f.id, f.answered_at, f.soreness, f.bruising, f.short_of_breath, f.chest_pain, f.pain_breathing_in,
           pt.regions, ef.types, ef.severities,
           (SELECT count(*) FROM {_sessions} a WHERE a.patient_id = %s)
    FROM {_sessions} s
    JOIN {_users} u ON u.id = s.clinician_id
    LEFT JOIN {_follow_ups} f ON f.session_id = s.id
    LEFT JOIN LATERAL (
        SELECT array_agg(m.body_region ORDER BY m.body_region) AS regions
        FROM {_points} p JOIN {_muscles} m ON m.id = p.muscle_id
        WHERE p.session_id = s.id AND NOT EXISTS (SELECT 1 FROM {_removals} r WHERE r.point_id = p.id)
    ) pt ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(e.type ORDER BY e.recorded_at, e.id) AS types,
               array_agg(e.severity ORDER BY e.recorded_at, e.id) AS severities
        FROM {_effects} e WHERE e.session_id = s.id
    ) ef ON true
    WHERE s.patient_id = %s
    ORDER BY s.started_at DESC, s.id DESC
    LIMIT %s
"""  # noqa: S608 - the table names from _meta; every value a parameter


def latest_sessions_of(patient_id, *, limit):
    """[ChartSession] of the patient's latest `limit` sessions, newest first. One query. Raw SQL read as
    plain values (issue 17): the ORM's query (compiled on every chart, with four correlated subqueries
    per session) and the model objects of each session, clinician and follow-up cost more than
    PostgreSQL answering it; tests/treatments/test_chart_sessions_sql.py holds it to that ORM query."""
    with connection.cursor() as cursor:
        cursor.execute(LATEST_SESSIONS, [patient_id, patient_id, limit])
        rows = cursor.fetchall()
    return [
        ChartSession(
            pk=row[0],
            started_at=row[1],
            pain_before=row[2],
            pain_after=row[3],
            signed_at=row[4],
            review_on=row[5],
            clinician=row[6] or row[7],  # as User.__str__
            follow_up=None if row[8] is None else ChartFollowUp(*row[9:15]),
            point_regions=row[15] or [],
            effect_types=row[16] or [],
            effect_severities=row[17] or [],
            patient_sessions=row[18],
        )
        for row in rows
    ]


(_POINT_SQL, _POINT), (_MUSCLE_SQL, _MUSCLE) = columns("p", NeedlePoint), columns("m", Muscle)
(_NEEDLE_SQL, _NEEDLE), (_REMOVAL_SQL, _REMOVAL) = columns("n", NeedleSize), columns("r", PointRemoval)
(_USER_SQL, _USER) = columns("u", User)
# A session's points with their muscle, needle size, and removal (with who removed it) when one was removed
# as entered in error: session.points.select_related("muscle", "needle_size", "removal",
# "removal__removed_by").order_by("order"), written out once (session_points()).
SESSION_POINTS = f"""
    SELECT {_POINT_SQL}, {_MUSCLE_SQL}, {_NEEDLE_SQL}, {_REMOVAL_SQL}, {_USER_SQL}
    FROM {_points} p
    JOIN {_muscles} m ON m.id = p.muscle_id
    JOIN {NeedleSize._meta.db_table} n ON n.id = p.needle_size_id
    LEFT JOIN {_removals} r ON r.point_id = p.id
    LEFT JOIN {_users} u ON u.id = r.removed_by_id
    WHERE p.session_id = %s
    ORDER BY p."order"
"""  # noqa: S608 - the table and column names from _meta; every value a parameter


_POINT_ROW = slices(_POINT, _MUSCLE, _NEEDLE, _REMOVAL, _USER)


def session_points(session_id):
    """The session's needle points in order, as model objects with their muscle, needle size and removal
    (None unless removed as entered in error; with who removed it) already attached, as the ORM's
    select_related attaches them: one query. Raw SQL (issue 17): the session screen reads them on every
    view, and Django compiling the five-table query cost more than PostgreSQL running it;
    tests/treatments/test_session_points_sql.py holds it to the ORM query it replaced."""
    alias = connection.alias
    with connection.cursor() as cursor:
        cursor.execute(SESSION_POINTS, [session_id])
        rows = cursor.fetchall()
    points = []
    for row in rows:
        point_values, muscle_values, needle_values, removal_values, user_values = (row[s] for s in _POINT_ROW)
        point = built(NeedlePoint, alias, _POINT, point_values)
        NeedlePoint.muscle.field.set_cached_value(point, built(Muscle, alias, _MUSCLE, muscle_values))
        NeedlePoint.needle_size.field.set_cached_value(
            point, built(NeedleSize, alias, _NEEDLE, needle_values)
        )
        removal = None
        if removal_values[0] is not None:
            removal = built(PointRemoval, alias, _REMOVAL, removal_values)
            PointRemoval.removed_by.field.set_cached_value(removal, built(User, alias, _USER, user_values))
            PointRemoval.point.field.set_cached_value(removal, point)
        NeedlePoint.removal.related.set_cached_value(point, removal)
        points.append(point)
    return points


(_EFFECT_SQL, _EFFECT), (_INCIDENT_SQL, _INCIDENT) = columns("e", SideEffect), columns("i", Incident)
# session.side_effects.select_related("incident") in SideEffect's order, written out once
# (session_side_effects()).
SESSION_SIDE_EFFECTS = f"""
    SELECT {_EFFECT_SQL}, {_INCIDENT_SQL}
    FROM {_effects} e
    LEFT JOIN {Incident._meta.db_table} i ON i.side_effect_id = e.id
    WHERE e.session_id = %s
    ORDER BY e.recorded_at, e.id
"""  # noqa: S608 - the table and column names from _meta; every value a parameter
_EFFECT_ROW = slices(_EFFECT, _INCIDENT)


def session_side_effects(session_id):
    """The session's side effects in the order recorded, as model objects with the incident each opened
    (None when none) attached as select_related attaches it: one query. Raw SQL for the reason
    session_points() is; tests/treatments/test_session_points_sql.py holds it to the ORM query."""
    alias = connection.alias
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SIDE_EFFECTS, [session_id])
        rows = cursor.fetchall()
    effects = []
    for row in rows:
        effect_values, incident_values = (row[s] for s in _EFFECT_ROW)
        effect = built(SideEffect, alias, _EFFECT, effect_values)
        incident = None
        if incident_values[0] is not None:
            incident = built(Incident, alias, _INCIDENT, incident_values)
            Incident.side_effect.field.set_cached_value(incident, effect)
        SideEffect.incident.related.set_cached_value(effect, incident)
        effects.append(effect)
    return effects


(_SESSION_SQL, _SESSION), (_PATIENT_SQL, _PATIENT) = columns("s", NeedlingSession), columns("p", Patient)
_SIGNER_SQL = columns("sb", User)[0]
# NeedlingSession.objects.select_related("patient", "clinician", "signed_by").filter(pk=...), written out
# once (screen_session()).
SCREEN_SESSION = f"""
    SELECT {_SESSION_SQL}, {_PATIENT_SQL}, {_USER_SQL}, {_SIGNER_SQL}
    FROM {_sessions} s
    JOIN {Patient._meta.db_table} p ON p.id = s.patient_id
    JOIN {_users} u ON u.id = s.clinician_id
    LEFT JOIN {_users} sb ON sb.id = s.signed_by_id
    WHERE s.id = %s
"""  # noqa: S608 - the table and column names from _meta; every value a parameter
_SESSION_ROW = slices(_SESSION, _PATIENT, _USER, _USER)


def screen_session(pk):
    """The session `pk` as the session screen shows it, with its patient, clinician and signer (None for a
    draft) attached as select_related attaches them, or None when there is no such session: one query.
    Raw SQL (issue 17): Django compiling the four-table query on every view cost more than PostgreSQL
    running it; tests/treatments/test_session_points_sql.py holds it to the ORM query it replaced."""
    alias = connection.alias
    with connection.cursor() as cursor:
        cursor.execute(SCREEN_SESSION, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    session_values, patient_values, clinician_values, signer_values = (row[s] for s in _SESSION_ROW)
    session = built(NeedlingSession, alias, _SESSION, session_values)
    NeedlingSession.patient.field.set_cached_value(session, built(Patient, alias, _PATIENT, patient_values))
    NeedlingSession.clinician.field.set_cached_value(session, built(User, alias, _USER, clinician_values))
    signer = None if signer_values[0] is None else built(User, alias, _USER, signer_values)
    NeedlingSession.signed_by.field.set_cached_value(session, signer)
    return session
