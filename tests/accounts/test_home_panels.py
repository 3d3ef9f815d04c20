"""The role home pages get what higher apps give each role through the `home_panels` hook on their
AppConfigs (accounts/home.py), in INSTALLED_APPS order; accounts names none of those apps."""

from django.urls import reverse

from accounts.roles import Role


def test_the_physiotherapists_home_page_loads_my_day_in_place(client_for):
    page = client_for(Role.PHYSIO).get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("treatments:my_day")}"' in page
    assert 'data-testid="home-my-day"' in page


def test_the_administrators_home_page_has_only_true_cards_linking_to_real_pages(client_for, db):
    from tests.factories import ConsentFormFactory

    current = ConsentFormFactory(version="2026.4")
    client = client_for(Role.ADMIN)
    page = client.get(reverse("home")).content.decode()
    assert "Not available yet" not in page and 'data-testid="not-yet"' not in page
    assert f"Patients sign version {current.version}" in page
    links = [
        reverse("admin:accounts_user_changelist"),
        reverse("audit:list"),
        reverse("consent:versions"),
        reverse("admin:treatments_muscle_changelist"),
        reverse("admin:treatments_needlesize_changelist"),
    ]
    for url in links:
        assert f'href="{url}"' in page
        assert client.get(url).status_code == 200, url


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
