import django.test
import pytest
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Role
from tests.factories import AdminFactory, FrontDeskFactory, ManagerFactory, PhysioFactory, give_authenticator

ROLE_FACTORIES = {
    Role.PHYSIO: PhysioFactory,
    Role.FRONT_DESK: FrontDeskFactory,
    Role.MANAGER: ManagerFactory,
    Role.ADMIN: AdminFactory,
}


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
