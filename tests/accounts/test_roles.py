import pytest
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from accounts.navigation import entries_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role,heading",
    [
        (Role.PHYSIO, "Good day"),
        (Role.FRONT_DESK, "Front desk"),
        (Role.MANAGER, "Clinic manager"),
        (Role.ADMIN, "Administration"),
    ],
)
def test_each_role_has_its_own_home_page(client_for, role, heading):
    response = client_for(role).get("/")
    assert response.status_code == 200
    assert heading in response.content.decode()


def test_the_navigation_shows_the_audit_trail_to_the_administrator_only():
    assert "Audit trail" in [item["label"] for item in entries_for(UserFactory(role=Role.ADMIN))]
    for role in (Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER):
        assert "Audit trail" not in [item["label"] for item in entries_for(UserFactory(role=role))]


def test_home_pages_never_invent_figures_for_modules_not_yet_there(client_for):
    html = client_for(Role.MANAGER).get("/").content.decode()
    if 'data-testid="not-yet"' in html:
        assert "Not available yet" in html


def test_only_the_administrator_reaches_the_django_admin(client_for):
    assert client_for(Role.ADMIN).get("/admin/").status_code == 200
    for role in (Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER):
        assert client_for(role).get("/admin/").status_code == 403


def test_is_staff_follows_the_role():
    assert UserFactory(role=Role.ADMIN).is_staff
    assert not UserFactory(role=Role.MANAGER).is_staff
    assert not UserFactory(role=Role.ADMIN, is_active=False).is_staff


def test_the_database_refuses_an_unknown_role():
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(role="surgeon")


def test_emails_are_unique_whatever_their_case():
    UserFactory(email="sam@clinic.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="SAM@clinic.test", full_name="Sam", role=Role.PHYSIO)])


def test_create_user_normalises_and_validates():
    user = User.objects.create_user(
        "New.Person@Clinic.TEST", "a-long-enough-password", full_name="N P", role=Role.FRONT_DESK
    )
    assert user.email == "new.person@clinic.test"
    assert user.password.startswith("argon2")
    with pytest.raises(Exception, match="role"):
        User.objects.create_user("x@clinic.test", "a-long-enough-password", full_name="X", role="")
