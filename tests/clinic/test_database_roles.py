"""The role the app serves requests as reads and writes rows, and cannot switch the rules off: no
TRUNCATE, no DDL, no trigger control (DESIGN.md rule 7). The suite itself connects as the owner."""

import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from audit.models import Action, AuditEvent
from audit.services import record
from tests.clinic.conftest import ROOT, command_environment
from tests.factories import (
    NeedlingSessionFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlingSession
from treatments.services import add_point, sign_session


def refused(app, statement, params=None):
    """The message PostgreSQL refuses `statement` with (fails the test when it is accepted)."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as error:
        app.execute(statement, params)
    return str(error.value)


@pytest.fixture
def signed_session():
    from consent.models import Region

    session = NeedlingSessionFactory(clinician=PhysioFactory())
    ScreeningFactory(patient=session.patient)  # a screening comes before the first point (issue 11)
    give_consent(session.patient, accepted=(Region.GENERAL,))
    add_point(
        session,
        by=session.clinician,
        muscle=muscle("Gluteus medius"),
        side="R",
        needle_size=needle("0.30", 60),
        depth_mm=40,
        insertions=3,
        twitch_response="single",
        patient_response="familiar",
    )
    complete_session(session)
    return sign_session(session, by=session.clinician)


def test_the_app_role_is_neither_superuser_nor_owner_of_anything(as_app):
    role, superuser = as_app.execute(
        "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert superuser is False
    owned = as_app.execute(
        """SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole
           UNION ALL SELECT count(*) FROM pg_proc WHERE proowner = current_user::regrole
           UNION ALL SELECT count(*) FROM pg_database WHERE datdba = current_user::regrole"""
    ).fetchall()
    assert owned == [(0,), (0,), (0,)], f"{role} owns something"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role])
        assert cursor.fetchone() == (False,), "the owner is a member of the app role, not the other way round"
    assert as_app.execute("SELECT pg_has_role(current_user, 'pg_database_owner', 'MEMBER')").fetchone() == (
        False,
    )


def test_the_app_role_reads_and_writes_rows(as_app):
    as_app.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ('k', 'd', now())"
    )
    as_app.execute("UPDATE django_session SET session_data = 'e' WHERE session_key = 'k'")
    assert as_app.execute("SELECT session_data FROM django_session").fetchall() == [("e",)]
    as_app.execute("DELETE FROM django_session WHERE session_key = 'k'")
    assert as_app.execute("SELECT count(*) FROM django_session").fetchone() == (0,)


def test_the_app_role_cannot_truncate_the_audit_trail(as_app):
    record(Action.VIEW, user=PhysioFactory(), object_type="patients.patient", object_id="1")
    message = refused(as_app, "TRUNCATE audit_auditevent")
    assert "permission denied for table audit_auditevent" in message
    assert AuditEvent.objects.count() == 1


def test_the_app_role_cannot_switch_triggers_off_for_its_session(as_app, signed_session):
    message = refused(as_app, "SET session_replication_role = replica")
    assert 'permission denied to set parameter "session_replication_role"' in message
    # The triggers still run, so the signed session stays as it was signed.
    message = refused(
        as_app, "UPDATE treatments_needlingsession SET pain_after = 0 WHERE id = %s", [signed_session.pk]
    )
    assert "is signed and read-only" in message
    assert NeedlingSession.objects.get(pk=signed_session.pk).pain_after == 3


def test_the_app_role_cannot_disable_a_trigger(as_app):
    event = record(Action.VIEW, user=PhysioFactory(), object_type="patients.patient", object_id="1")
    for statement in [
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    ]:
        assert "must be owner of" in refused(as_app, statement)
    message = refused(as_app, "UPDATE audit_auditevent SET detail = 'rewritten' WHERE id = %s", [event.pk])
    assert "append-only" in message
    assert AuditEvent.objects.get(pk=event.pk).detail == ""


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intruder (id int)",
        "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "ALTER TABLE patients_patient ADD COLUMN intruder text",
        "ALTER TABLE appointments_appointment DROP CONSTRAINT appointment_therapist_no_overlap",
        "DROP TABLE audit_auditevent",
        "CREATE OR REPLACE FUNCTION treatments_refuse_signed_session() RETURNS trigger "
        "LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
    ],
)
def test_the_app_role_cannot_change_the_schema(as_app, statement):
    message = refused(as_app, statement)
    assert "permission denied" in message or "must be owner" in message


def test_tables_a_later_migration_creates_are_granted_to_the_app_role_alone(as_app):
    # As the owner, as a migration would: the default privileges grant rows, and nothing more.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE clinic_later_table (id bigint GENERATED BY DEFAULT AS IDENTITY, note text)"
        )
    try:
        as_app.execute("INSERT INTO clinic_later_table (note) VALUES ('written by the app')")
        assert as_app.execute("SELECT note FROM clinic_later_table").fetchall() == [("written by the app",)]
        assert "permission denied" in refused(as_app, "TRUNCATE clinic_later_table")
        assert "must be owner" in refused(as_app, "ALTER TABLE clinic_later_table DISABLE TRIGGER ALL")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE clinic_later_table")


def test_check_deploy_warns_when_the_app_connects_as_a_role_that_owns_the_tables(db):
    from clinic.checks import check_database_roles

    # The suite's own connection is the owner's.
    (warning,) = check_database_roles(databases=["default"])
    assert warning.id == "clinic.W001" and "owns" in warning.msg


def test_check_deploy_is_content_with_the_app_role(app_database_url):
    env = command_environment(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="clinic.example")
    env["DATABASE_URL"] = app_database_url
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--database", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "clinic.W001" not in result.stdout + result.stderr


def test_a_migration_url_for_another_database_stops_start_up():
    env = command_environment(DEBUG="1", DATABASE_URL="postgresql://app@/clinic")
    env["MIGRATION_DATABASE_URL"] = "postgresql://owner@/elsewhere"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "MIGRATION_DATABASE_URL must name the same database as DATABASE_URL ('clinic')" in result.stderr
