"""One clinic time zone in the database (clinic migration 0001): a one-row table that every SQL function
judging a clinic day reads, whoever connects. The consent rule (a version's effective date) and the
report summaries (a visit's day) read the same row, a bare connection (psql, PgBouncer dropping startup
options) judges the same day as the app, and `migrate` keeps the row equal to CLINIC_TIME_ZONE."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.factories import ConsentFormFactory, PatientFactory, give_consent


def scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def bare_connection():
    """A connection with no options at all, as psql or a pooler in transaction mode would give."""
    params = {
        key: value
        for key, value in connection.get_connection_params().items()
        if key in {"dbname", "user", "password", "host", "port"}
    }
    return psycopg.connect(**params, autocommit=True)


@pytest.mark.django_db
def test_the_database_holds_the_clinics_zone_once_for_every_rule():
    assert scalar("SELECT clinic_time_zone()") == settings.TIME_ZONE
    assert scalar("SELECT reports_time_zone()") == settings.TIME_ZONE
    assert scalar("SELECT to_regclass('reports_clinic_time_zone')") is None  # no second copy
    assert scalar("SELECT count(*) FROM pg_settings WHERE name = 'clinic.time_zone'") == 0


@pytest.mark.django_db
def test_a_clinic_day_follows_the_row():
    late = datetime(2026, 12, 2, 20, 0, tzinfo=ZoneInfo("UTC"))  # the 2nd in Vancouver, the 3rd in Tokyo
    assert str(scalar("SELECT clinic_local_date(%s)", [late])) == "2026-12-02"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_time_zone SET name = 'Asia/Tokyo'")
    assert str(scalar("SELECT clinic_local_date(%s)", [late])) == "2026-12-03"


@pytest.mark.django_db
def test_an_empty_zone_is_an_error_not_a_silent_utc():
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_time_zone")
    with pytest.raises(Exception, match="clinic_time_zone is empty"):
        scalar("SELECT clinic_local_date(now())")


@pytest.mark.django_db(transaction=True)
def test_a_bare_connection_judges_a_consent_version_by_the_clinics_day():
    # A version requiring re-consent takes effect on the clinic's next day. At 22:00 clinic time the day
    # before, the old consent still allows needling, whoever asks; in UTC it would already be superseded.
    patient = PatientFactory()
    give_consent(patient)
    day = timezone.localdate() + timedelta(days=3)
    evening = timezone.make_aware(datetime.combine(day, time(22, 0)))
    ConsentFormFactory(requires_reconsent=True, effective_date=day + timedelta(days=1))
    ask = "SELECT consent_allows(%s, 'general', %s)"
    assert scalar(ask, [patient.pk, evening]) is True
    with bare_connection() as bare:
        assert bare.execute(ask, [patient.pk, evening]).fetchone()[0] is True
        bare.execute("UPDATE clinic_time_zone SET name = 'UTC'")
        try:
            assert bare.execute(ask, [patient.pk, evening]).fetchone()[0] is False
        finally:
            bare.execute("UPDATE clinic_time_zone SET name = %s", [settings.TIME_ZONE])


@pytest.mark.django_db
def test_migrate_records_a_changed_zone(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    call_command("migrate", verbosity=0)
    assert scalar("SELECT clinic_time_zone()") == "Asia/Tokyo"
    assert scalar("SELECT reports_time_zone()") == "Asia/Tokyo"
