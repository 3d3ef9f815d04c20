"""The navigation bar's entries are made once per process for each role (accounts/navigation.py, issue 17):
each role still sees only its own entries, the page still marks the one it is on, and a site mounted
under a prefix still links under it."""

import pytest
from django.apps import apps
from django.urls import reverse, set_script_prefix

from accounts.models import Role
from accounts.navigation import entries_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def declared(role):
    """The entries the apps declare for `role`, in app order, as (label, url name)."""
    return [
        (label, url_name)
        for config in apps.get_app_configs()
        for label, url_name, roles in getattr(config, "navigation", [])
        if role in roles
    ]


@pytest.mark.parametrize("role", Role.values)
def test_each_role_sees_the_entries_declared_for_it_and_no_other(role):
    user = UserFactory(role=role)
    for _ in range(2):  # made once, then remembered: the same both times
        entries = entries_for(user)
        assert [(e["label"], e["url"]) for e in entries] == [
            (label, reverse(name)) for label, name in declared(role)
        ]


def test_a_changed_list_does_not_change_the_remembered_one():
    user = UserFactory(role=Role.PHYSIO)
    entries_for(user).clear()
    assert entries_for(user)


def test_a_site_under_a_prefix_links_under_it():
    user = UserFactory(role=Role.FRONT_DESK)
    plain = [e["url"] for e in entries_for(user)]
    set_script_prefix("/clinic/")
    try:
        assert [e["url"] for e in entries_for(user)] == ["/clinic" + url for url in plain]
    finally:
        set_script_prefix("/")
    assert [e["url"] for e in entries_for(user)] == plain


def test_the_page_marks_the_entry_it_is_on_and_no_other(client_for):
    html = client_for(Role.PHYSIO).get(reverse("treatments:my_day")).content.decode()
    my_day = reverse("treatments:my_day")
    assert html.count('aria-current="page"') == 1
    assert f'aria-current="page" href="{my_day}"' in " ".join(html.split())


def test_nobody_signed_out_has_entries():
    from django.contrib.auth.models import AnonymousUser

    assert entries_for(AnonymousUser()) == []
