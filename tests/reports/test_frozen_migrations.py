"""The report summaries' SQL is frozen in its migrations and reads the clinic's time zone when it runs:
replaying the migrations builds the same triggers, a database migrated before the freeze is brought to
the same place, and a change of CLINIC_TIME_ZONE needs no new SQL (migrate records it and recounts)."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from reports.models import AppointmentDay
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

# 20:00 UTC on 2 December: still the 2nd in Vancouver (UTC-7), already the 3rd in Tokyo (UTC+9).
LATE_UTC = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
TRIGGERS = {
    "reports_sessions_added",
    "reports_sessions_changed",
    "reports_points_added",
    "reports_points_changed",
    "reports_appointments_added",
    "reports_appointments_changed",
    "reports_points_removed",
    "reports_session_days_added",
    "reports_session_days_changed",
    "reports_session_month_total_kept",
    "reports_appointment_month_total_kept",
    "reports_muscle_month_total_kept",
    "reports_session_week_total_kept",
    "reports_appointment_week_total_kept",
}


def scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def summary_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'reports\\_%%' AND NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()}


def appointment_days():
    return sorted(
        str(day) for day in AppointmentDay.objects.filter(appointments__gt=0).values_list("day", flat=True)
    )


def test_no_summary_function_has_a_time_zone_written_into_it():
    baked = scalar(
        "SELECT count(*) FROM pg_proc WHERE proname LIKE 'reports\\_%%' AND prosrc ILIKE %s", ["%America/%"]
    )
    assert baked == 0
    assert scalar("SELECT reports_time_zone()") == "America/Vancouver"


def test_the_summaries_read_the_time_zone_when_they_run():
    AppointmentFactory(start=LATE_UTC)
    assert appointment_days() == ["2026-12-02"]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_time_zone SET name = 'Asia/Tokyo'")
    AppointmentFactory(start=LATE_UTC.replace(hour=21))
    assert appointment_days() == ["2026-12-02", "2026-12-03"]


def test_migrate_records_a_changed_clinic_time_zone_and_recounts(settings):
    AppointmentFactory(start=LATE_UTC)
    settings.TIME_ZONE = "Asia/Tokyo"
    call_command("migrate", verbosity=0)
    assert scalar("SELECT reports_time_zone()") == "Asia/Tokyo"
    assert appointment_days() == ["2026-12-03"]


def test_the_report_migrations_replay_backwards_and_forwards():
    call_command("migrate", "reports", "0001", verbosity=0)
    assert summary_triggers() == set()
    assert scalar("SELECT to_regclass('reports_clinic_time_zone')") is None
    call_command("migrate", "reports", verbosity=0)
    assert summary_triggers() == TRIGGERS
    # The zone is the clinic's one row again (reports 0009), not a table of the reports' own.
    assert scalar("SELECT to_regclass('reports_clinic_time_zone')") is None
    assert scalar("SELECT reports_time_zone()") == "America/Vancouver"
    AppointmentFactory(start=LATE_UTC)
    assert appointment_days() == ["2026-12-02"]


def test_a_database_migrated_before_the_freeze_is_brought_to_the_same_place():
    # What the old 0002 left: the zone written into a one-argument reports_local_day, and no zone table.
    call_command("migrate", "reports", "0004", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION reports_local_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE
               AS $$ SELECT (ts AT TIME ZONE 'America/Vancouver')::date $$;
               DROP TABLE reports_clinic_time_zone;"""
        )
    call_command("migrate", "reports", verbosity=0)
    assert scalar("SELECT count(*) FROM pg_proc WHERE proname = 'reports_local_day'") == 1
    assert scalar("SELECT reports_time_zone()") == "America/Vancouver"
    assert summary_triggers() == TRIGGERS
    AppointmentFactory(start=LATE_UTC)
    assert appointment_days() == ["2026-12-02"]
