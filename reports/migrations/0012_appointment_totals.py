# ruff: noqa: S608 - the SQL below is built from this file's own constants and 0011's, no input
from importlib import import_module

from django.db import migrations, models

# Two more rollups of the appointments (issue 17), the sessions' 0011 done for reports_appointmentday
# (0002/0004: one row per clinic day, therapist, location and status). At full size a year of it is about
# 330,000 rows, which the dashboard read whole on each view. Kept by 0002's two statement triggers on
# appointments_appointment (their functions are replaced here, each doing 0002's upsert and then these two):
#
# - reports_appointmentdaytotal: appointments per clinic day, location and status, all therapists
#   together: what the dashboard's per-period figures read unless a therapist is chosen.
# - reports_appointmentmonth: appointments per calendar month, therapist, location and status: the
#   per-therapist table for the whole months of a range (the days at either end of it, in no whole month,
#   come from reports_appointmentday).
#
# Same rule as 0002: the old rows' share out, the new rows' share in, upserts in key order; groups whose
# share did not change (an appointment edited but not moved, nor its status changed) write nothing here,
# so the busy day totals take no row lock for them. The rebuild empties both with the others and counts
# them again from reports_appointmentday once it is refilled (it inserts no appointment, so no trigger
# counts them there).
#
# Frozen as shipped; going back restores 0002's functions and 0011's rebuild.

TOTALS = import_module("reports.migrations.0011_session_totals")

ADDED = "SELECT start, therapist_id, location_id, status, 1 AS sign FROM after"
CHANGED = ADDED + " UNION ALL SELECT start, therapist_id, location_id, status, -1 FROM before"


def upsert_days(shares):
    """SQL: 0002's upsert of reports_appointmentday, unchanged."""
    return f"""
    INSERT INTO reports_appointmentday AS d (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start, clinic_zone), therapist_id, location_id, status, sum(sign)
    FROM ({shares}) ch
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, therapist_id, location_id, status) DO UPDATE
        SET appointments = d.appointments + EXCLUDED.appointments;"""


def upsert_totals(shares):
    """SQL: the shares summed per clinic day, location and status, added to reports_appointmentdaytotal."""
    return f"""
    INSERT INTO reports_appointmentdaytotal AS t (day, location_id, status, appointments)
    SELECT reports_local_day(start, clinic_zone), location_id, status, sum(sign)
    FROM ({shares}) ch
    GROUP BY 1, 2, 3
    HAVING sum(sign) <> 0
    ORDER BY 1, 2, 3
    ON CONFLICT (day, location_id, status) DO UPDATE
        SET appointments = t.appointments + EXCLUDED.appointments;"""


def upsert_months(shares):
    """SQL: the shares summed per calendar month (of the clinic day), therapist, location and status,
    added to reports_appointmentmonth."""
    return f"""
    INSERT INTO reports_appointmentmonth AS m (month, therapist_id, location_id, status, appointments)
    SELECT date_trunc('month', reports_local_day(start, clinic_zone))::date, therapist_id, location_id,
           status, sum(sign)
    FROM ({shares}) ch
    GROUP BY 1, 2, 3, 4
    HAVING sum(sign) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (month, therapist_id, location_id, status) DO UPDATE
        SET appointments = m.appointments + EXCLUDED.appointments;"""


def functions(*upserts):
    added = "".join(upsert(ADDED) for upsert in upserts)
    changed = "".join(upsert(CHANGED) for upsert in upserts)
    return f"""
CREATE OR REPLACE FUNCTION reports_appointments_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{added}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_appointments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
{changed}
    RETURN NULL;
END;
$$;
"""


KEEPING = functions(upsert_days, upsert_totals, upsert_months)
PREVIOUS_KEEPING = functions(upsert_days)

# From the per-day rollup as it stands (the triggers count from here on; the rebuild does the same).
FROM_DAYS = """
    INSERT INTO reports_appointmentdaytotal (day, location_id, status, appointments)
    SELECT day, location_id, status, sum(appointments) FROM reports_appointmentday
    GROUP BY 1, 2, 3 HAVING sum(appointments) <> 0;
    INSERT INTO reports_appointmentmonth (month, therapist_id, location_id, status, appointments)
    SELECT date_trunc('month', day)::date, therapist_id, location_id, status, sum(appointments)
    FROM reports_appointmentday GROUP BY 1, 2, 3, 4 HAVING sum(appointments) <> 0;
"""
FILL = f"""{FROM_DAYS}
ANALYZE reports_appointmentdaytotal;
ANALYZE reports_appointmentmonth;
"""

REFILLED = "    FROM appointments_appointment GROUP BY 1, 2, 3, 4;\n"
REBUILD = (
    TOTALS.REBUILD.replace(
        ", reports_appointmentday;\n",
        ", reports_appointmentday, reports_appointmentdaytotal, reports_appointmentmonth;\n",
    )
    .replace(REFILLED, REFILLED + FROM_DAYS.lstrip("\n"))
    .replace(
        "    ANALYZE reports_appointmentday;\n",
        "    ANALYZE reports_appointmentday;\n    ANALYZE reports_appointmentdaytotal;\n"
        "    ANALYZE reports_appointmentmonth;\n",
    )
)
assert REBUILD.count("reports_appointmentmonth") == 3  # noqa: S101 - the frozen text it edits is what it expects


def counts(name):
    return (name, models.IntegerField(default=0))


class Migration(migrations.Migration):
    dependencies = [("reports", "0011_session_totals")]

    operations = [
        migrations.CreateModel(
            name="AppointmentDayTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("location_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=20)),
                counts("appointments"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "location_id", "status"), name="reports_appointment_total_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AppointmentMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField()),
                ("therapist_id", models.BigIntegerField()),
                ("location_id", models.BigIntegerField()),
                ("status", models.CharField(max_length=20)),
                counts("appointments"),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("month", "therapist_id", "location_id", "status"),
                        name="reports_appointment_month_unique",
                    )
                ],
            },
        ),
        migrations.RunSQL(KEEPING + REBUILD, PREVIOUS_KEEPING + TOTALS.REBUILD),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
