# ruff: noqa: S608 - the SQL below is built from this file's own constants and 0013's, no input
from importlib import import_module

from django.db import migrations, models

# The all-clinic day totals of sessions (0011) and appointments (0012) added up per week, from Monday
# (issue 17): a range the dashboard shows by week (32 to 190 days) read every location's and status's day
# totals for its weekly line, about 15,800 rows for 90 days at full size. It now reads the range's whole
# weeks here, and only the days at either end of it, in no whole week, from the day totals, as 0013 does
# for months.
#
# - reports_sessionweektotal: SessionDayTotal's sessions per week and location (the only figure the
#   weekly line shows).
# - reports_appointmentweektotal: AppointmentDayTotal's appointments per week, location and status.
#
# A week is named by its Monday: day - (day - DATE '0001-01-01') % 7, since 0001-01-01 was a Monday (the
# dashboard's weeks, reports/services.py PERIOD_OF_DAY, are the same days). Each table is kept by a row
# trigger on its day-total table, as 0013's months are: a row inserted adds its figures to its week, a
# row updated adds the difference, a row deleted takes its figures out, so a week's row is the sum of its
# days' rows at every commit. The rebuild empties them with the others (TRUNCATE fires no row trigger)
# before refilling the day totals, which counts them again.
#
# Frozen as shipped; going back drops the triggers and restores 0013's rebuild.

MONTHS = import_module("reports.migrations.0013_month_totals")


def week_of(row):
    return f"({row}.day - ({row}.day - DATE '0001-01-01') % 7)"


def session_upsert(row, sign):
    """SQL: `sign` times the sessions of day-total row `row` (NEW or OLD) added to its week's row."""
    return f"""
        INSERT INTO reports_sessionweektotal AS w (week, location_id, sessions)
        VALUES ({week_of(row)}, {row}.location_id, {sign} * {row}.sessions)
        ON CONFLICT (week, location_id) DO UPDATE SET sessions = w.sessions + EXCLUDED.sessions;"""


def appointment_upsert(row, sign):
    return f"""
        INSERT INTO reports_appointmentweektotal AS w (week, location_id, status, appointments)
        VALUES ({week_of(row)}, {row}.location_id, {row}.status, {sign} * {row}.appointments)
        ON CONFLICT (week, location_id, status) DO UPDATE
            SET appointments = w.appointments + EXCLUDED.appointments;"""


KEPT = [
    ("reports_sessiondaytotal", "reports_session_week_total_kept", session_upsert),
    ("reports_appointmentdaytotal", "reports_appointment_week_total_kept", appointment_upsert),
]
KEEPING = "".join(MONTHS.keeping(*kept) for kept in KEPT)
DROP = "".join(
    f"DROP TRIGGER IF EXISTS {name} ON {table};\nDROP FUNCTION IF EXISTS {name}();\n"
    for table, name, _ in KEPT
)

# From the day totals as they stand (the triggers count from here on).
FILL = f"""
INSERT INTO reports_sessionweektotal (week, location_id, sessions)
SELECT {week_of("t")}, t.location_id, sum(t.sessions) FROM reports_sessiondaytotal t GROUP BY 1, 2;
INSERT INTO reports_appointmentweektotal (week, location_id, status, appointments)
SELECT {week_of("t")}, t.location_id, t.status, sum(t.appointments)
FROM reports_appointmentdaytotal t GROUP BY 1, 2, 3;
ANALYZE reports_sessionweektotal;
ANALYZE reports_appointmentweektotal;
"""

TRUNCATED = ", reports_appointmentmonthtotal, reports_musclemonthtotal;\n"
REBUILD = MONTHS.REBUILD.replace(
    TRUNCATED, TRUNCATED[:-2] + ", reports_sessionweektotal, reports_appointmentweektotal;\n"
).replace(
    "    ANALYZE reports_musclemonthtotal;\n",
    "    ANALYZE reports_musclemonthtotal;\n    ANALYZE reports_sessionweektotal;\n"
    "    ANALYZE reports_appointmentweektotal;\n",
)
assert REBUILD.count("reports_appointmentweektotal") == 2  # noqa: S101 - the frozen text it edits is what it expects


def key():
    return (
        "id",
        models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0013_month_totals")]

    operations = [
        migrations.CreateModel(
            name="SessionWeekTotal",
            fields=[
                key(),
                ("week", models.DateField()),
                ("location_id", models.BigIntegerField(null=True)),
                ("sessions", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("week", "location_id"),
                        name="reports_session_week_total_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AppointmentWeekTotal",
            fields=[
                key(),
                ("week", models.DateField()),
                ("location_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=20)),
                ("appointments", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("week", "location_id", "status"),
                        name="reports_appointment_week_total_unique",
                    )
                ],
            },
        ),
        migrations.RunSQL(KEEPING + REBUILD, DROP + MONTHS.REBUILD),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
