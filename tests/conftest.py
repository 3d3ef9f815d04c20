import pytest
from django.conf import settings
from django.db import connections

from accounts.models import Role
from tests.factories import AdminFactory, FrontDeskFactory, ManagerFactory, PhysioFactory

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
