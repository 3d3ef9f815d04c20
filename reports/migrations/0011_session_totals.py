# ruff: noqa: S608 - the SQL below is built from this file's own constants and 0010's, no input
from importlib import import_module

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

# Two more rollups of the session summaries (issue 17), kept by 0010's two triggers on
# reports_sessionsummary (their functions are replaced here, each doing 0010's upsert and then these two):
#
# - reports_sessiondaytotal: 0010's figures per clinic day and location, all clinicians together. At full
#   size (hundreds of therapists) a clinician-day holds about one session, so 0010's rollup read for a
#   year without a therapist chosen was nearly a row per session; this one is one row per day and
#   location whatever the clinic's size: what the dashboard reads unless a therapist is chosen.
# - reports_sessionmonth: sessions per calendar month, clinician and location: the per-therapist table
#   for the whole months of a range (the days at either end of it, in no whole month, come from 0010's
#   rollup), a few rows per therapist a year instead of one per clinician-day.
#
# Same rule as 0010: take the old summary rows' share out, put the new rows' share in, upserts in key
# order, groups whose share did not change write nothing. The rebuild empties both with the others and
# the same triggers count again what it inserts.
#
# Frozen as shipped; going back restores 0010's functions and rebuild.

DAYS = import_module("reports.migrations.0010_session_days")
SUMS, BY_POINTS, share = DAYS.SUMS, DAYS.BY_POINTS, DAYS.share


def upsert_totals(shares, empty=False):
    """SQL: the shares summed per day and location, added to reports_sessiondaytotal."""
    columns = ", ".join(SUMS)
    changed = " OR ".join([f"sum(c.{name}) <> 0" for name in SUMS] + [f"{b} <> 0" for b in BY_POINTS])
    added = ", ".join(f"{name} = d.{name} + EXCLUDED.{name}" for name in SUMS)
    conflict = (
        ""
        if empty
        else DAYS.ON_CONFLICT.format(added=added).replace(
            "(day, clinician_id, location_id)", "(day, location_id)"
        )
    )
    return f"""
    INSERT INTO reports_sessiondaytotal AS d (day, location_id, sessions_by_points, {columns})
    SELECT c.day, c.location_id, ARRAY[{", ".join(BY_POINTS)}],
           {", ".join(f"sum(c.{name})" for name in SUMS)}
    FROM ({shares}) c
    GROUP BY c.day, c.location_id
    HAVING {changed}
    ORDER BY c.day, c.location_id{conflict};"""


def upsert_months(shares, empty=False):
    """SQL: the shares' sessions summed per calendar month, clinician and location, added to
    reports_sessionmonth."""
    conflict = (
        ""
        if empty
        else """
    ON CONFLICT (month, clinician_id, location_id) DO UPDATE SET sessions = m.sessions + EXCLUDED.sessions"""
    )
    return f"""
    INSERT INTO reports_sessionmonth AS m (month, clinician_id, location_id, sessions)
    SELECT date_trunc('month', c.day)::date, c.clinician_id, c.location_id, sum(c.sessions)
    FROM ({shares}) c
    GROUP BY 1, 2, 3
    HAVING sum(c.sessions) <> 0
    ORDER BY 1, 2, 3{conflict};"""


ADDED = share("added", 1)
CHANGED = share("before", -1) + " UNION ALL " + share("after", 1)

KEEPING = f"""
CREATE OR REPLACE FUNCTION reports_session_days_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{DAYS.upsert(ADDED)}
{upsert_totals(ADDED)}
{upsert_months(ADDED)}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_session_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{DAYS.upsert(CHANGED)}
{upsert_totals(CHANGED)}
{upsert_months(CHANGED)}
    RETURN NULL;
END;
$$;
"""

# What is there already, counted once (the triggers count from here on).
EVERY = share("reports_sessionsummary", 1)
FILL = f"""
DO $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{upsert_totals(EVERY, empty=True)}
{upsert_months(EVERY, empty=True)}
END;
$$;
ANALYZE reports_sessiondaytotal;
ANALYZE reports_sessionmonth;
"""

REBUILD = DAYS.REBUILD.replace(
    "TRUNCATE reports_sessionsummary, reports_sessionday,",
    "TRUNCATE reports_sessionsummary, reports_sessionday, reports_sessiondaytotal, reports_sessionmonth,",
).replace(
    "    ANALYZE reports_sessionday;\n",
    "    ANALYZE reports_sessionday;\n    ANALYZE reports_sessiondaytotal;\n    ANALYZE reports_sessionmonth;\n",
)
assert "reports_sessionmonth" in REBUILD and "ANALYZE reports_sessiondaytotal" in REBUILD  # noqa: S101


def counts(name):
    return (name, models.IntegerField(default=0))


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_session_days")]

    operations = [
        migrations.CreateModel(
            name="SessionDayTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("location_id", models.BigIntegerField(null=True)),
                counts("sessions"),
                ("sessions_by_points", ArrayField(models.IntegerField(), size=11)),
                counts("points"),
                counts("twitches"),
                counts("pain_sessions"),
                counts("pain_before"),
                counts("pain_after"),
                counts("improved"),
                counts("risk_sessions"),
                counts("covered_sessions"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "location_id"),
                        name="reports_session_total_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SessionMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                ("clinician_id", models.BigIntegerField()),
                ("location_id", models.BigIntegerField(null=True)),
                counts("sessions"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "clinician_id", "location_id"),
                        name="reports_session_month_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(KEEPING + REBUILD, DAYS.KEEPING + DAYS.REBUILD),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
