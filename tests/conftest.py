"""Fixtures every test may use, and the test clock.

CLINIC_TEST_NOW=2026-12-06T23:40 (clinic time; or with an offset, e.g. 2026-12-07T06:40:00+00:00) runs
every test with Python's clock set to that instant and ticking from there (time-machine), so the suite
can be run at the awkward hours it must survive. Several instants, separated by spaces, run each test
once at each (`make test-clock` runs the tests marked `clock` so: README "Testing"). PostgreSQL's own
clock is not moved; no time the app or the tests store comes from it (docs/architecture.md "Time zones
and the clock").
"""

import os
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import django.test
import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Role
from tests.factories import (
    AdminFactory,
    FrontDeskFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
    give_authenticator,
)

ROLE_FACTORIES = {
    Role.PHYSIO: PhysioFactory,
    Role.FRONT_DESK: FrontDeskFactory,
    Role.MANAGER: ManagerFactory,
    Role.ADMIN: AdminFactory,
}


@pytest.fixture(autouse=True)
def audit_checkpoint_dir(tmp_path, settings, monkeypatch):
    """Each test keeps its audit checkpoints in a folder of its own (subprocesses too), so checkpoints
    written for the development database under var/ never meet a test database."""
    directory = tmp_path / "audit-checkpoints"
    settings.AUDIT_CHECKPOINT_DIR = directory
    monkeypatch.setenv("AUDIT_CHECKPOINT_DIR", str(directory))
    return directory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The suite connects as the owner role (MIGRATION_DATABASE_URL): creating, migrating and flushing
    its test databases is the owner's work, and a few tests tamper behind the triggers as only the owner
    could. The app role, which serves requests, gets its own connection in the tests that show what it
    is refused (tests/clinic/test_database_roles.py) and in the production smoke test."""
    from clinic.database_roles import owner_credentials

    owner = owner_credentials()
    if owner:
        settings.DATABASES["default"].update(owner)
        connections["default"].close()


@pytest.fixture
def clinician(db):
    """A physiotherapist authorised to needle."""
    return PhysioFactory(full_name="Priya Natarajan")


@pytest.fixture
def patient(db):
    """Zoë Côté, who gave an e-mail address and was screened today with nothing found (a screening is
    needed before any point): the one patient of the appointments', consent and treatments tests."""
    from tests.factories import ScreeningFactory

    patient = PatientFactory(given_name="Zoë", family_name="Côté", email="pat@example.test")
    ScreeningFactory(patient=patient)
    return patient


@pytest.fixture
def zoe(db):
    """Zoë Côté with a valid PHN: the patients' tests' patient, and rule 6's screening-site tests'."""
    from tests.patients.conftest import VALID_PHN

    return PatientFactory(
        given_name="Zoë",
        family_name="Côté",
        date_of_birth=date(1985, 4, 12),
        phone="+16045550123",
        phn=VALID_PHN,
    )


def clinic_test_now():
    """The instants CLINIC_TEST_NOW names, as aware datetimes (a time written without an offset is clinic
    time); empty when it is unset."""
    instants = []
    for value in re.split(r"[\s,]+", os.environ.get("CLINIC_TEST_NOW", "").strip()):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise pytest.UsageError(
                f"CLINIC_TEST_NOW: {value!r} is not an ISO 8601 date and time, e.g. 2026-12-06T23:40"
            ) from None
        instants.append(moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE)))
    return instants


TEST_NOW = clinic_test_now()


def local(moment):
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def pytest_report_header(config):
    if not TEST_NOW:
        return "clock: the real one (set CLINIC_TEST_NOW to run at other instants)"
    return "clock: CLINIC_TEST_NOW, ticking from " + "; ".join(
        f"{local(moment):%A %Y-%m-%d %H:%M:%S %Z}" for moment in TEST_NOW
    )


def pytest_generate_tests(metafunc):
    # Several instants: every test runs once at each, named after it (test_x[...-Sun-23:40]).
    if len(TEST_NOW) > 1 and "clinic_clock" in metafunc.fixturenames:
        metafunc.parametrize(
            "clinic_clock", TEST_NOW, indirect=True, ids=[f"{local(m):%a-%H:%M}" for m in TEST_NOW]
        )


@pytest.fixture(autouse=True)
def clinic_clock(request):
    """With CLINIC_TEST_NOW set, the test starts at that instant (each test anew) and time runs on."""
    moment = getattr(request, "param", TEST_NOW[0] if TEST_NOW else None)
    if moment is None:
        yield None
        return
    with time_machine.travel(moment, tick=True) as traveller:
        yield traveller


@pytest.fixture
def quick_hashing(settings):
    """Password hashing that costs nothing, for tests that seed the demo clinic: hashing its six staff
    passwords with Argon2 is most of a small seed's time. Not for tests about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pass_second_factor(client, user):
    """Mark the client's session verified the way django_otp.login() does after a good code: the session
    names the user's authenticator (made for them when they have none)."""
    device = give_authenticator(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


class Client(django.test.Client):
    """The test client, whose force_login() also passes the second factor, as a person who typed the code
    of their authenticator app. Tests of the second factor itself use force_login_password_only()."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        pass_second_factor(self, user)

    def force_login_password_only(self, user, backend=None):
        super().force_login(user, backend)


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def physio(db):
    return PhysioFactory()


@pytest.fixture
def front_desk(db):
    return FrontDeskFactory()


@pytest.fixture
def manager(db):
    return ManagerFactory()


@pytest.fixture
def administrator(db):
    return AdminFactory()


@pytest.fixture
def client_for(client, db):
    """client_for(Role.PHYSIO) -> a test client logged in (password and second factor) as a new user of that
    role."""

    def login(role_or_user):
        user = ROLE_FACTORIES[role_or_user]() if isinstance(role_or_user, str) else role_or_user
        client.force_login(user)
        client.user = user
        return client

    return login
