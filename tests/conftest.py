import pytest

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
