"""Fixtures every test may use, and the test clock.

CLINIC_TEST_NOW=2026-12-06T23:40 (clinic time; or with an offset, e.g. 2026-12-07T06:40:00+00:00) runs
every test with Python's clock set to that instant and ticking from there (time-machine), so the suite
can be run at the awkward hours it must survive: `.ci/run` runs the tests marked `clock` at three of them
(README "Testing"). PostgreSQL's own clock is not moved; nothing the app or the tests rely on reads it
(docs/architecture.md "Time").
"""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from accounts.models import Role
from tests.factories import AdminFactory, FrontDeskFactory, ManagerFactory, PhysioFactory

ROLE_FACTORIES = {
    Role.PHYSIO: PhysioFactory,
    Role.FRONT_DESK: FrontDeskFactory,
    Role.MANAGER: ManagerFactory,
    Role.ADMIN: AdminFactory,
}


def clinic_test_now():
    """CLINIC_TEST_NOW as an aware datetime (a time written without an offset is clinic time), or None."""
    value = os.environ.get("CLINIC_TEST_NOW", "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"CLINIC_TEST_NOW={value!r} is not an ISO 8601 date and time, e.g. 2026-12-06T23:40"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment


TEST_NOW = clinic_test_now()


def pytest_report_header(config):
    if TEST_NOW is None:
        return "clock: the real one (set CLINIC_TEST_NOW to run at another instant)"
    local = TEST_NOW.astimezone(ZoneInfo(settings.TIME_ZONE))
    return f"clock: CLINIC_TEST_NOW, {local:%A %Y-%m-%d %H:%M:%S %Z} clinic time, ticking"


@pytest.fixture(autouse=True)
def clinic_clock():
    """With CLINIC_TEST_NOW set, the test starts at that instant (each test anew) and time runs on."""
    if TEST_NOW is None:
        yield None
        return
    with time_machine.travel(TEST_NOW, tick=True) as traveller:
        yield traveller


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
    """client_for(Role.PHYSIO) -> a test client logged in as a new user of that role."""

    def login(role_or_user):
        user = ROLE_FACTORIES[role_or_user]() if isinstance(role_or_user, str) else role_or_user
        client.force_login(user)
        client.user = user
        return client

    return login
