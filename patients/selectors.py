"""Reads of the patients tables that pages make on every request, written as fixed SQL (a constant string
with parameters) where Django compiling the query cost more than PostgreSQL answering it (issue 17).
tests/patients/test_screenings_sql.py holds each to the ORM query it replaced."""

from django.db import connection

from accounts.models import User
from clinic.model_rows import built, columns, slices

from .models import Screening

(_SCREENING_SQL, _SCREENING), (_USER_SQL, _USER) = columns("sc", Screening), columns("u", User)
# Screening.objects.filter(patient=...)[.filter(answered_at__lte=at)].select_related("answered_by") in
# Screening's order (newest answered first, then the latest id), written out once (screenings_of()).
SCREENINGS_OF = f"""
    SELECT {_SCREENING_SQL}, {_USER_SQL}
    FROM {Screening._meta.db_table} sc
    JOIN {User._meta.db_table} u ON u.id = sc.answered_by_id
    WHERE sc.patient_id = %(patient)s
      AND (%(at)s::timestamptz IS NULL OR sc.answered_at <= %(at)s::timestamptz)
    ORDER BY sc.answered_at DESC, sc.id DESC
    LIMIT %(limit)s
"""  # noqa: S608 - the table and column names from _meta; every value a parameter
_ROW = slices(_SCREENING, _USER)


def screenings_of(patient, *, at=None, limit):
    """The patient's latest `limit` screenings (answered by `at`, when given), newest first, as Screening
    objects with who answered them attached as select_related attaches it: one query. Raw SQL: the chart
    and the session screen read them on every view (latest_screening(), the chart's screening panel)."""
    alias = connection.alias
    with connection.cursor() as cursor:
        cursor.execute(SCREENINGS_OF, {"patient": getattr(patient, "pk", patient), "at": at, "limit": limit})
        rows = cursor.fetchall()
    found = []
    for row in rows:
        screening_values, user_values = (row[s] for s in _ROW)
        screening = built(Screening, alias, _SCREENING, screening_values)
        Screening.answered_by.field.set_cached_value(screening, built(User, alias, _USER, user_values))
        found.append(screening)
    return found
