"""The role home pages get what higher apps give each role through the `home_panels` hook on their
AppConfigs (accounts/home.py), in INSTALLED_APPS order; accounts names none of those apps."""

import pytest
from django.urls import reverse

from accounts.roles import Role


def test_the_physiotherapists_home_page_loads_my_day_in_place(client_for):
    page = client_for(Role.PHYSIO).get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("treatments:my_day")}"' in page
    assert 'data-testid="home-my-day"' in page


@pytest.mark.parametrize("role", [Role.ADMIN])
def test_a_role_no_app_gives_a_panel_has_none(client_for, role):
    response = client_for(role).get(reverse("home"))
    assert response.context["panels"] == []


def test_the_front_desks_home_page_has_the_search_then_todays_appointments(client_for):
    page = client_for(Role.FRONT_DESK).get(reverse("home")).content.decode()
    assert page.index("Find or register a patient") < page.index('data-testid="home-today"')
    assert f'href="{reverse("patients:register")}"' in page
    assert f'hx-get="{reverse("appointments:today")}"' in page


def test_the_managers_home_page_has_the_figures_and_report_links(client_for):
    page = client_for(Role.MANAGER).get(reverse("home")).content.decode()
    for url_name, text in [
        ("reports:dashboard", "Activity and outcomes"),
        ("reports:safety", "Safety"),
        ("reports:exports", "Exports"),
    ]:
        assert f'<a href="{reverse(url_name)}">{text}</a>' in page
