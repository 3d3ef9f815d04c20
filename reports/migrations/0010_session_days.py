# ruff: noqa: S608 - the SQL below is built from this file's own constants, no input
from importlib import import_module

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

# Per-day rollups of the session summaries (issue 17): the dashboard read every session summary of its
# range on each view (a year at benchmark size: about 200,000 rows, three times). reports_sessionday holds,
# per clinic day, clinician and location, what the dashboard's session figures add up: sessions, sessions
# by points (0 to 9, then 10 or more), points, twitches, the pain figures and the consent coverage counts.
# A year is then one row per clinician-day, however many sessions it held.
#
# Kept by statement-level triggers on reports_sessionsummary itself, not on the needling tables: every
# change that moves a dashboard figure (a session added or moved, points recorded, edited or removed in
# error, pain written before signing, consent coverage judged when points are recorded) already ends as
# an INSERT or UPDATE of a session summary, so the rollup follows all of them with one rule: take the
# old summary rows' share out, put the new rows' share in. Groups whose share did not change (signing,
# which touches no figure here) write nothing, so they take no row lock. Upserts go in key order (no
# deadlock between two writers), as in 0002. The rebuild (manage.py refresh_report_summaries) empties the
# rollup with the summaries and lets the same triggers count what it inserts and updates.
#
# Frozen as shipped; going back restores 0008's rebuild (only frozen migrations are imported).

BUCKETS = range(11)  # sessions with 0, 1, ... 9 points, then 10 or more


def share(rows, sign):
    """SQL: each summary row of `rows` as its share of the rollup (`sign` 1 to add, -1 to take out)."""
    return f"""
        SELECT reports_local_day(r.started_at, clinic_zone) AS day, r.clinician_id, r.location_id,
               {sign} AS sessions, least(r.points, 10) AS bucket, {sign} * r.points AS points,
               {sign} * r.twitches AS twitches,
               {sign} * (r.pain_before IS NOT NULL AND r.pain_after IS NOT NULL)::int AS pain_sessions,
               {sign} * CASE WHEN r.pain_after IS NOT NULL THEN coalesce(r.pain_before, 0) ELSE 0 END
                   AS pain_before,
               {sign} * CASE WHEN r.pain_before IS NOT NULL THEN coalesce(r.pain_after, 0) ELSE 0 END
                   AS pain_after,
               {sign} * coalesce(r.pain_after < r.pain_before, false)::int AS improved,
               {sign} * (r.neck_points > 0 OR r.mid_back_points > 0)::int AS risk_sessions,
               {sign} * ((r.neck_points > 0 OR r.mid_back_points > 0)
                         AND (r.neck_points = 0 OR r.neck_consented)
                         AND (r.mid_back_points = 0 OR r.mid_back_consented))::int AS covered_sessions
        FROM {rows} r"""


SUMS = ["sessions", "points", "twitches", "pain_sessions", "pain_before", "pain_after", "improved"]
SUMS += ["risk_sessions", "covered_sessions"]
BY_POINTS = [f"coalesce(sum(c.sessions) FILTER (WHERE c.bucket = {n}), 0)" for n in BUCKETS]


ON_CONFLICT = """
    ON CONFLICT (day, clinician_id, location_id) DO UPDATE
        SET {added},
            sessions_by_points = ARRAY(
                SELECT u.old + u.new
                FROM unnest(d.sessions_by_points, EXCLUDED.sessions_by_points) WITH ORDINALITY AS u(old, new, i)
                ORDER BY u.i)"""


def upsert(shares, empty=False):
    """SQL: the shares summed per day, clinician and location, added to reports_sessionday (inserted only,
    when it is `empty`: the unique index is built at the end of the migration that creates the table)."""
    columns = ", ".join(SUMS)
    changed = " OR ".join([f"sum(c.{name}) <> 0" for name in SUMS] + [f"{b} <> 0" for b in BY_POINTS])
    added = ", ".join(f"{name} = d.{name} + EXCLUDED.{name}" for name in SUMS)
    conflict = "" if empty else ON_CONFLICT.format(added=added)
    return f"""
    INSERT INTO reports_sessionday AS d (day, clinician_id, location_id, sessions_by_points, {columns})
    SELECT c.day, c.clinician_id, c.location_id, ARRAY[{", ".join(BY_POINTS)}],
           {", ".join(f"sum(c.{name})" for name in SUMS)}
    FROM ({shares}) c
    GROUP BY c.day, c.clinician_id, c.location_id
    HAVING {changed}
    ORDER BY c.day, c.clinician_id, c.location_id{conflict};"""


KEEPING = f"""
CREATE OR REPLACE FUNCTION reports_session_days_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{upsert(share("added", 1))}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_session_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{upsert(share("before", -1) + " UNION ALL " + share("after", 1))}
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS reports_session_days_added ON reports_sessionsummary;
CREATE TRIGGER reports_session_days_added AFTER INSERT ON reports_sessionsummary
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reports_session_days_added();
DROP TRIGGER IF EXISTS reports_session_days_changed ON reports_sessionsummary;
CREATE TRIGGER reports_session_days_changed AFTER UPDATE ON reports_sessionsummary
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION reports_session_days_changed();
"""

# What is there already, counted once (the triggers count from here on).
FILL = f"""
DO $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{upsert(share("reports_sessionsummary", 1), empty=True)}
END;
$$;
ANALYZE reports_sessionday;
"""

# 0008's rebuild, with the rollup emptied alongside the summaries and analysed after them; the triggers
# above count it again while the rebuild inserts and updates the session summaries.
REBUILD = (
    import_module("reports.migrations.0008_points_removed_not_counted")
    .REBUILD.replace(
        "TRUNCATE reports_sessionsummary, reports_muscleday,",
        "TRUNCATE reports_sessionsummary, reports_sessionday, reports_muscleday,",
    )
    .replace(
        "    ANALYZE reports_sessionsummary;\n",
        "    ANALYZE reports_sessionsummary;\n    ANALYZE reports_sessionday;\n",
    )
)
assert "reports_sessionday" in REBUILD  # noqa: S101 - the frozen text it edits is what it expects

PREVIOUS_REBUILD = import_module("reports.migrations.0008_points_removed_not_counted").REBUILD

DROP = """
DROP TRIGGER IF EXISTS reports_session_days_changed ON reports_sessionsummary;
DROP TRIGGER IF EXISTS reports_session_days_added ON reports_sessionsummary;
DROP FUNCTION IF EXISTS reports_session_days_changed();
DROP FUNCTION IF EXISTS reports_session_days_added();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0009_time_zone_from_the_clinic")]

    operations = [
        migrations.CreateModel(
            name="SessionDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("clinician_id", models.BigIntegerField()),
                ("location_id", models.BigIntegerField(null=True)),
                ("sessions", models.IntegerField(default=0)),
                ("sessions_by_points", ArrayField(models.IntegerField(), size=11)),
                ("points", models.IntegerField(default=0)),
                ("twitches", models.IntegerField(default=0)),
                ("pain_sessions", models.IntegerField(default=0)),
                ("pain_before", models.IntegerField(default=0)),
                ("pain_after", models.IntegerField(default=0)),
                ("improved", models.IntegerField(default=0)),
                ("risk_sessions", models.IntegerField(default=0)),
                ("covered_sessions", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "clinician_id", "location_id"),
                        name="reports_session_day_unique",
                        nulls_distinct=False,
                    )
                ],
                "indexes": [
                    models.Index(fields=["clinician_id", "day"], name="reports_session_day_clin_idx"),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="sessionsummary",
            index=models.Index(
                fields=["started_at", "session_id"],
                condition=models.Q(neck_points__gt=0, neck_consented=False)
                | models.Q(mid_back_points__gt=0, mid_back_consented=False),
                name="reports_session_uncovered_idx",
            ),
        ),
        migrations.RunSQL(KEEPING + REBUILD, DROP + PREVIOUS_REBUILD),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
