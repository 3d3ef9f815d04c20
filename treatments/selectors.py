"""Reads of sessions as plain values for pages that list many (My day): fixed SQL, each a constant string
with parameters. Django compiling these queries and building a model object of each session and patient
cost more than PostgreSQL answering them (issue 17); tests/treatments/test_my_day_values.py holds each to
the ORM query it replaced."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from patients.models import Patient
from patients.names import PatientName

from .models import NeedlingSession

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
