import pytest
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_PASSWORD, DEMO_STAFF
from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_it_creates_a_login_for_each_role_that_works(client):
    call_command("seed_demo", "--size", "5", "--quiet")
    assert {u.role for u in User.objects.all()} == set(Role.values)
    for email, _name, _role, _registration in DEMO_STAFF:
        assert client.login(username=email, password=DEMO_PASSWORD), email


def test_running_it_twice_adds_nothing(client):
    call_command("seed_demo", "--size", "5", "--quiet")
    counts = User.objects.count()
    call_command("seed_demo", "--size", "5", "--quiet")
    assert User.objects.count() == counts


def test_the_intern_has_no_needling_authorisation():
    call_command("seed_demo", "--size", "0", "--quiet")
    intern = User.objects.get(email="intern@demo.imsclinic.test")
    assert not intern.clinician_profile.needling_authorised()
    assert User.objects.get(email="physio@demo.imsclinic.test").clinician_profile.needling_authorised()


def test_demo_logins_prints_every_role(capsys):
    call_command("demo_logins")
    out = capsys.readouterr().out
    for email, *_ in DEMO_STAFF:
        assert email in out
    assert DEMO_PASSWORD in out


def test_a_negative_size_is_refused_as_a_command_error_adding_nothing():
    with pytest.raises(CommandError, match="--size cannot be negative") as refused:
        call_command("seed_demo", "--size", "-1", "--quiet")
    assert refused.value.returncode == 2
    assert not User.objects.exists()
