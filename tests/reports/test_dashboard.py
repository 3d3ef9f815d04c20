import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from tests.factories import PatientFactory, PhysioFactory
from tests.markup import tags
from tests.reports.conftest import add_session, at

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock

SVG = "{http://www.w3.org/2000/svg}"


def params(report_filter, **extra):
    return {"start": report_filter.start.isoformat(), "end": report_filter.end.isoformat(), **extra}


def test_the_manager_sees_the_figures_of_the_range(clinic, client_for):
    response = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-testid="figure-sessions">4<', html)
    assert re.search(r'data-testid="figure-appointments">6<', html)
    assert re.search(r'data-testid="figure-no-show">16.7%<', html)
    assert re.search(r'data-testid="figure-coverage">33.3%<', html)


def test_every_chart_is_an_svg_with_its_table(clinic, client_for):
    response = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter))
    charts = response.context["charts"]
    assert {c.key for c in charts} == {
        "activity",
        "per-therapist",
        "points-per-session",
        "muscles",
        "regions",
    }
    html = response.content.decode()
    for chart in charts:
        ET.fromstring(str(chart.svg))  # well-formed
        assert f'data-testid="table-{chart.key}"' in html
    muscles = next(c for c in charts if c.key == "muscles")
    assert muscles.rows[0] == ("Gluteus medius", 3)


def test_a_muscle_name_holding_markup_is_shown_as_text_in_its_chart(clinic, client_for):
    from treatments.models import Muscle

    hostile = '"><svg onload=alert(1)><script>alert(1)</script>'
    Muscle.objects.filter(name="Gluteus medius").update(name=hostile)
    response = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter))
    muscles = ET.fromstring(str(next(c for c in response.context["charts"] if c.key == "muscles").svg))
    assert muscles.find(f".//{SVG}script") is None
    assert hostile in [g.get("data-label") for g in muscles.iter(f"{SVG}g")]
    html = response.content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_manager_sees_the_consent_alarm_but_not_the_sessions(clinic, client_for):
    html = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter)).content.decode()
    assert 'data-testid="consent-alarm"' in html
    assert 'data-testid="uncovered-sessions"' not in html
    assert f"Session {clinic.sessions['no_consent'].pk}" not in html


def test_the_administrator_sees_the_uncovered_sessions(clinic, client_for):
    html = client_for(Role.ADMIN).get("/reports/", params(clinic.report_filter)).content.decode()
    assert f"Session {clinic.sessions['no_consent'].pk}" in html
    assert f"Session {clinic.sessions['declined_mid_back'].pk}" in html
    assert f"Session {clinic.sessions['covered'].pk}<" not in html


def test_a_bad_range_shows_the_message_and_no_figures(clinic, client_for):
    response = client_for(Role.MANAGER).get("/reports/", {"start": "2026-10-31", "end": "2026-10-01"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "is before the start" in html
    assert "figure-sessions" not in html


def test_an_unknown_therapist_shows_the_message(clinic, client_for):
    response = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter, therapist="99999"))
    assert response.status_code == 400
    assert "that one is not known" in response.content.decode()


def test_viewing_the_dashboard_is_audited_with_its_filters(clinic, client_for):
    client = client_for(Role.MANAGER)
    client.get("/reports/", params(clinic.report_filter))
    event = AuditEvent.objects.get(action=Action.VIEW, object_type="reports.dashboard")
    assert event.actor == client.user
    assert event.detail == clinic.report_filter.as_audit()


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK])
@pytest.mark.parametrize(
    "url", ["/reports/", "/reports/therapists/", "/reports/safety/", "/reports/exports/"]
)
def test_clinicians_and_the_front_desk_are_refused(db, client_for, role, url):
    assert client_for(role).get(url).status_code == 403


def per_therapist(html):
    """The per-therapist table's rows as (name, appointments, sessions) text."""
    body = re.search(r'data-testid="per-therapist">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [tuple(re.findall(r"<td[^>]*>(.*?)</td>", row)) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_a_short_list_of_therapists_is_shown_whole(clinic, client_for):
    html = client_for(Role.MANAGER).get("/reports/", params(clinic.report_filter)).content.decode()
    assert per_therapist(html) == [("Anna Physio", "3", "3"), ("Ben Physio", "2", "1")]
    assert 'data-testid="all-therapists"' not in html


def test_past_the_first_therapists_the_rest_are_added_up_and_listed_on_their_own_page(
    clinic, client_for, monkeypatch
):
    """Hundreds of therapists (issue 17): the dashboard shows those with the most sessions and one row
    adding up the others, so each column still adds up to the clinic's figures; every therapist is one
    link away, on a page of the same filters."""
    from reports import views

    monkeypatch.setattr(views, "THERAPISTS_SHOWN", 1)
    client = client_for(Role.MANAGER)
    query = params(clinic.report_filter)
    response = client.get("/reports/", query)
    html = response.content.decode()
    assert per_therapist(html) == [("Anna Physio", "3", "3"), ("The other 1 therapist", "2", "1")]
    chart = next(c for c in response.context["charts"] if c.key == "per-therapist")
    assert chart.rows == [("Anna Physio", 3)]
    assert "the 1 with the most" in chart.title
    link = re.search(r'href="([^"]+)"\s+data-testid="all-therapists"', html).group(1).replace("&amp;", "&")
    assert link.startswith("/reports/therapists/?")
    full = client.get(link)
    assert full.status_code == 200
    assert per_therapist(full.content.decode()) == [("Anna Physio", "3", "3"), ("Ben Physio", "2", "1")]
    event = AuditEvent.objects.get(action=Action.VIEW, object_type="reports.therapists")
    assert event.actor == client.user and event.detail == clinic.report_filter.as_audit()


def test_the_therapists_page_honours_the_filters_and_refuses_a_bad_range(clinic, client_for):
    client = client_for(Role.ADMIN)
    only_ben = client.get("/reports/therapists/", params(clinic.report_filter, therapist=clinic.ben.pk))
    assert per_therapist(only_ben.content.decode()) == [("Ben Physio", "2", "1")]
    bad = client.get("/reports/therapists/", {"start": "2026-10-31", "end": "2026-10-01"})
    assert bad.status_code == 400
    assert "is before the start" in bad.content.decode()
    assert 'data-testid="per-therapist"' not in bad.content.decode()
    assert AuditEvent.objects.filter(object_type="reports.therapists").count() == 1  # the good one only


def test_the_therapists_page_runs_the_same_queries_for_many_therapists(
    clinic, client_for, django_assert_max_num_queries
):
    client = client_for(Role.MANAGER)
    query = params(clinic.report_filter)
    with django_assert_max_num_queries(20) as few:
        client.get("/reports/therapists/", query)
    for n in range(5):
        add_session(
            PatientFactory(),
            PhysioFactory(),
            at(clinic.report_filter.start, 8 + n),
            [("Rhomboid minor", "none")],
            legacy=True,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/reports/therapists/", query)
    assert len(per_therapist(response.content.decode())) == 7


def test_the_dashboard_runs_the_same_queries_for_many_rows(clinic, client_for, django_assert_max_num_queries):
    client = client_for(Role.ADMIN)
    query = params(clinic.report_filter)
    with django_assert_max_num_queries(20) as few:
        client.get("/reports/", query)
    first = clinic.report_filter.start
    for day in range(6):
        for hour in (8, 12, 13, 14, 15):
            add_session(
                PatientFactory(),
                clinic.anna,
                at(first + timedelta(days=day), hour),
                [("Upper trapezius", "single"), ("Rhomboid minor", "none")],
                effects=[("bruising", "significant")],
                legacy=True,
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/reports/", query)
    assert re.search(r'data-testid="figure-sessions">34<', response.content.decode())


def test_the_safety_page_runs_the_same_queries_for_many_rows(
    clinic, client_for, django_assert_max_num_queries
):
    client = client_for(Role.ADMIN)
    query = params(clinic.report_filter)
    with django_assert_max_num_queries(20) as few:
        client.get("/reports/safety/", query)
    for hour in range(8, 18):
        add_session(
            PatientFactory(),
            clinic.ben,
            at(clinic.report_filter.start, hour),
            [],
            effects=[("fainting", "significant")],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/reports/safety/", query)
    assert len(response.context["safety"].events) == 11


def test_the_safety_page_shows_rates_beside_both_baselines(clinic, client_for):
    response = client_for(Role.MANAGER).get("/reports/safety/", params(clinic.report_filter))
    html = response.content.decode()
    assert "Brady et al. 2014" in html and "Boyce et al. 2020" in html
    row = re.search(r'<tr data-key="bruising">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[:3] == ["Bruising", "2", "50.00"]
    assert cells[4:] == ["7.55", "7.70"]
    assert "Suspected pneumothorax" in html
    assert AuditEvent.objects.filter(action=Action.VIEW, object_type="reports.safety").count() == 1


def test_serious_events_link_to_the_session_for_the_administrator_only(clinic, client_for):
    ben = clinic.sessions["ben"].pk
    manager_html = (
        client_for(Role.MANAGER).get("/reports/safety/", params(clinic.report_filter)).content.decode()
    )
    assert f"Session {ben}" not in manager_html
    admin_html = client_for(Role.ADMIN).get("/reports/safety/", params(clinic.report_filter)).content.decode()
    assert f'<a href="{reverse("treatments:session", args=[ben])}">Session {ben}</a>' in admin_html


def test_serious_events_and_incidents_are_marked_danger_and_significant_ones_warning(clinic, client_for):
    fainting = [("fainting", "significant")]  # each significant or serious side effect opens an incident
    add_session(PatientFactory(), clinic.ben, at(clinic.report_filter.start, 14), [], effects=fainting)
    html = client_for(Role.ADMIN).get("/reports/safety/", params(clinic.report_filter)).content.decode()
    marked = [row for row in tags(html, "tr") if row.get("class") in ("table-danger", "table-warning")]
    incidents = [row["class"] for row in marked if row.get("data-testid") == "open-incident"]
    events = [row["class"] for row in marked if "data-testid" not in row]  # the serious-events table
    assert sorted(incidents) == sorted(events) == ["table-danger", "table-warning"]


def test_the_manager_home_shows_the_last_30_days(db, client_for):
    response = client_for(Role.MANAGER).get("/")
    assert 'data-testid="manager-summary"' in response.content.decode()
