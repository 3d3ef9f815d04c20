# ruff: noqa: S608 - the SQL below is built from this file's own constants and 0012's, no input
from importlib import import_module

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models

# The all-clinic day totals (0011's sessions, 0012's appointments, 0002's muscles) added up per calendar
# month (issue 17): a year's dashboard read 17,000 session rows, 51,000 appointment rows and 23,000 muscle
# rows of day totals at full size on each view (about 100 ms). It now reads the range's whole months here,
# and only the days at either end of it, in no whole month, from the day totals.
#
# - reports_sessionmonthtotal: SessionDayTotal's figures per month and location.
# - reports_appointmentmonthtotal: AppointmentDayTotal's appointments per month, location and status.
# - reports_musclemonthtotal: MuscleDayTotal's points and twitches per month and muscle.
#
# Each is kept by a row trigger on its day-total table, whatever changes that table (the session,
# point and appointment triggers, the rebuild): a row inserted adds its figures to its month, a row
# updated adds the difference, a row deleted takes its figures out. So a month's row is the sum of its
# days' rows at every commit, by construction. The rebuild empties them with the others (TRUNCATE fires
# no row trigger) before refilling the day totals, which counts them again.
#
# Frozen as shipped; going back drops the triggers and restores 0012's rebuild.

APPOINTMENTS = import_module("reports.migrations.0012_appointment_totals")

FIGURES = [
    "sessions",
    "points",
    "twitches",
    "pain_sessions",
    "pain_before",
    "pain_after",
    "improved",
    "risk_sessions",
    "covered_sessions",
]


def month_of(row):
    return f"date_trunc('month', {row}.day::timestamp)::date"


def session_upsert(row, sign):
    """SQL: `sign` times the figures of day-total row `row` (NEW or OLD) added to its month's row."""
    columns = ", ".join(FIGURES)
    values = ", ".join(f"{sign} * {row}.{name}" for name in FIGURES)
    updates = ", ".join(f"{name} = m.{name} + EXCLUDED.{name}" for name in FIGURES)
    return f"""
        INSERT INTO reports_sessionmonthtotal AS m (month, location_id, sessions_by_points, {columns})
        VALUES ({month_of(row)}, {row}.location_id,
                ARRAY(SELECT {sign} * u.v FROM unnest({row}.sessions_by_points) WITH ORDINALITY AS u(v, i)
                      ORDER BY u.i),
                {values})
        ON CONFLICT (month, location_id) DO UPDATE SET {updates},
            sessions_by_points = ARRAY(
                SELECT u.old + u.new
                FROM unnest(m.sessions_by_points, EXCLUDED.sessions_by_points) WITH ORDINALITY AS u(old, new, i)
                ORDER BY u.i);"""


def appointment_upsert(row, sign):
    return f"""
        INSERT INTO reports_appointmentmonthtotal AS m (month, location_id, status, appointments)
        VALUES ({month_of(row)}, {row}.location_id, {row}.status, {sign} * {row}.appointments)
        ON CONFLICT (month, location_id, status) DO UPDATE
            SET appointments = m.appointments + EXCLUDED.appointments;"""


def muscle_upsert(row, sign):
    return f"""
        INSERT INTO reports_musclemonthtotal AS m (month, muscle_id, points, twitches)
        VALUES ({month_of(row)}, {row}.muscle_id, {sign} * {row}.points, {sign} * {row}.twitches)
        ON CONFLICT (month, muscle_id) DO UPDATE
            SET points = m.points + EXCLUDED.points, twitches = m.twitches + EXCLUDED.twitches;"""


KEPT = [
    ("reports_sessiondaytotal", "reports_session_month_total_kept", session_upsert),
    ("reports_appointmentdaytotal", "reports_appointment_month_total_kept", appointment_upsert),
    ("reports_muscledaytotal", "reports_muscle_month_total_kept", muscle_upsert),
]


def keeping(table, name, upsert):
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN{upsert("OLD", -1)}
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN{upsert("NEW", 1)}
    END IF;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS {name} ON {table};
CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""


KEEPING = "".join(keeping(*kept) for kept in KEPT)
DROP = "".join(
    f"DROP TRIGGER IF EXISTS {name} ON {table};\nDROP FUNCTION IF EXISTS {name}();\n"
    for table, name, _ in KEPT
)

# From the day totals as they stand (the triggers count from here on).
FILL = f"""
INSERT INTO reports_sessionmonthtotal (month, location_id, sessions_by_points, {", ".join(FIGURES)})
SELECT f.month, f.location_id, b.buckets, {", ".join(f"f.{name}" for name in FIGURES)}
FROM (SELECT {month_of("t")} AS month, t.location_id, {", ".join(f"sum(t.{name}) AS {name}" for name in FIGURES)}
      FROM reports_sessiondaytotal t GROUP BY 1, 2) f
JOIN (SELECT x.month, x.location_id, array_agg(x.n ORDER BY x.i) AS buckets
      FROM (SELECT {month_of("t")} AS month, t.location_id, u.i, sum(u.v)::int AS n
            FROM reports_sessiondaytotal t, unnest(t.sessions_by_points) WITH ORDINALITY AS u(v, i)
            GROUP BY 1, 2, 3) x
      GROUP BY 1, 2) b ON b.month = f.month AND b.location_id IS NOT DISTINCT FROM f.location_id;
INSERT INTO reports_appointmentmonthtotal (month, location_id, status, appointments)
SELECT {month_of("t")}, t.location_id, t.status, sum(t.appointments)
FROM reports_appointmentdaytotal t GROUP BY 1, 2, 3;
INSERT INTO reports_musclemonthtotal (month, muscle_id, points, twitches)
SELECT {month_of("t")}, t.muscle_id, sum(t.points), sum(t.twitches)
FROM reports_muscledaytotal t GROUP BY 1, 2;
ANALYZE reports_sessionmonthtotal;
ANALYZE reports_appointmentmonthtotal;
ANALYZE reports_musclemonthtotal;
"""

TRUNCATED = ", reports_appointmentday, reports_appointmentdaytotal, reports_appointmentmonth;\n"
REBUILD = APPOINTMENTS.REBUILD.replace(
    TRUNCATED,
    TRUNCATED[:-2]
    + ", reports_sessionmonthtotal, reports_appointmentmonthtotal, reports_musclemonthtotal;\n",
).replace(
    "    ANALYZE reports_appointmentmonth;\n",
    "    ANALYZE reports_appointmentmonth;\n    ANALYZE reports_sessionmonthtotal;\n"
    "    ANALYZE reports_appointmentmonthtotal;\n    ANALYZE reports_musclemonthtotal;\n",
)
assert REBUILD.count("reports_musclemonthtotal") == 2  # noqa: S101 - the frozen text it edits is what it expects


def counts(name):
    return (name, models.IntegerField(default=0))


def key():
    return (
        "id",
        models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0012_appointment_totals")]

    operations = [
        migrations.CreateModel(
            name="SessionMonthTotal",
            fields=[
                key(),
                ("month", models.DateField()),
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
                        fields=("month", "location_id"),
                        name="reports_session_month_total_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AppointmentMonthTotal",
            fields=[
                key(),
                ("month", models.DateField()),
                ("location_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=20)),
                counts("appointments"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "location_id", "status"),
                        name="reports_appointment_month_total_unique",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MuscleMonthTotal",
            fields=[
                key(),
                ("month", models.DateField()),
                ("muscle_id", models.BigIntegerField()),
                counts("points"),
                counts("twitches"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "muscle_id"), name="reports_muscle_month_total_unique"
                    )
                ],
            },
        ),
        migrations.RunSQL(KEEPING + REBUILD, DROP + APPOINTMENTS.REBUILD),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
