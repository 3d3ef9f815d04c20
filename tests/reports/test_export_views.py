import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import Role
from audit.models import Action, AuditEvent


def params(report_filter, **extra):
    return {"start": report_filter.start.isoformat(), "end": report_filter.end.isoformat(), **extra}


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_appointments_csv_honours_the_filters(clinic, client_for):
    response = client_for(Role.MANAGER).get(
        "/reports/exports/appointments/", params(clinic.report_filter, therapist=clinic.anna.pk)
    )
    assert response.status_code == 200
    rows = csv_rows(response)
    assert rows[0][:3] == ["Appointment", "Chart number", "Start"]
    assert sorted(r[7] for r in rows[1:]) == ["Cancelled", "Completed", "Completed", "No-show"]
    assert {r[4] for r in rows[1:]} == {"Anna Physio"}


@pytest.mark.parametrize(
    ("key", "count"),
    [("appointments", 6), ("sessions", 4), ("needle_points", 8), ("side_effects", 4), ("psfs", 5)],
)
def test_each_export_has_one_line_per_row(clinic, client_for, key, count):
    rows = csv_rows(client_for(Role.MANAGER).get(f"/reports/exports/{key}/", params(clinic.report_filter)))
    assert len(rows) == count + 1
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.detail.endswith(f"{count} rows")


def test_needle_points_carry_muscle_region_and_twitch(clinic, client_for):
    rows = csv_rows(
        client_for(Role.MANAGER).get(
            "/reports/exports/needle_points/", params(clinic.report_filter, therapist=clinic.ben.pk)
        )
    )
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["Muscle"] == "Gluteus medius"
    assert first["Body region"] == "Buttock and hip (back)"
    assert first["Risk region"] == "None"
    assert first["Side"] in ("Left", "Right", "Bilateral")
    assert first["Technique"] == "Fast-in, fast-out (pistoning)"
    assert first["Twitch response"] == "None"
    assert first["Chart number"] == clinic.sessions["ben"].patient.chart_number


def test_cells_hold_labels_people_read_and_codes_1_gives_the_codes(clinic, client_for):
    client = client_for(Role.MANAGER)

    def first_rows(key, **extra):
        rows = csv_rows(client.get(f"/reports/exports/{key}/", params(clinic.report_filter, **extra)))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    trapezius = next(r for r in first_rows("needle_points") if r["Muscle"] == "Upper trapezius")
    assert (trapezius["Body region"], trapezius["Risk region"]) == (
        "Back of neck and upper trapezius",
        "Neck (cervical)",
    )
    effects = first_rows("side_effects")
    assert {r["Type"] for r in effects} == {"Bruising", "Bleeding", "Suspected pneumothorax"}
    assert {r["Severity"] for r in effects} == {"Mild", "Serious"}
    assert {r["Onset"] for r in effects} == {"During needling"}
    assert {r["Resolved"] for r in effects} == {"No"}

    coded = first_rows("needle_points", codes="1")
    trapezius = next(r for r in coded if r["Muscle"] == "Upper trapezius")
    assert (trapezius["Body region"], trapezius["Risk region"]) == ("neck_posterior", "neck")
    assert trapezius["Side"] in ("L", "R", "B")
    assert {r["Resolved"] for r in first_rows("side_effects", codes="1")} == {"f"}
    assert {r["Status"] for r in first_rows("appointments", codes="1")} >= {"no_show", "completed"}
    assert first_rows("side_effects", codes="0")[0]["Resolved"] == "No"
    event = AuditEvent.objects.filter(action=Action.EXPORT).order_by("-id")[1]
    assert "; codes; " in event.detail


def test_the_xlsx_has_labels_first_and_a_codes_sheet(clinic, client_for):
    response = client_for(Role.MANAGER).get(
        "/reports/exports/side_effects/", params(clinic.report_filter, file_format="xlsx")
    )
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert workbook.sheetnames == ["Side effects", "codes"]
    rows = [list(r) for r in workbook["Side effects"].iter_rows(values_only=True)]
    header = rows[0]
    assert {row[header.index("Severity")] for row in rows[1:]} == {"Mild", "Serious"}
    assert {row[header.index("Resolved")] for row in rows[1:]} == {"No"}
    legend = [list(r) for r in workbook["codes"].iter_rows(values_only=True)]
    assert legend[0] == ["Column", "Code", "Label"]
    assert ["Type", "pneumothorax", "Suspected pneumothorax"] in legend
    assert ["Severity", "serious", "Serious"] in legend
    assert ["Resolved", "f", "No"] in legend


@pytest.mark.clock
def test_the_export_page_defaults_to_the_last_90_days_like_the_dashboards(client_for, settings):
    import time_machine

    settings.TIME_ZONE = "America/Vancouver"
    client = client_for(Role.MANAGER)
    # 2026-03-01 07:30 UTC is still 2026-02-28 at a Vancouver clinic: the range ends on the clinic's day.
    with time_machine.travel("2026-03-01T07:30:00+00:00", tick=False):
        html = client.get("/reports/exports/").content.decode()
    assert "/reports/exports/sessions/?start=2025-12-01&amp;end=2026-02-28" in html
    assert 'data-testid="csv-sessions"' in html


def test_xlsx_rows_match_the_csv(clinic, client_for):
    client = client_for(Role.MANAGER)
    csv_lines = csv_rows(client.get("/reports/exports/sessions/", params(clinic.report_filter)))
    response = client.get("/reports/exports/sessions/", params(clinic.report_filter, file_format="xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == csv_lines[0]
    assert [str(r[0]) for r in cells[1:]] == [line[0] for line in csv_lines[1:]]


def test_the_administrator_may_ask_for_names(clinic, client_for):
    rows = csv_rows(
        client_for(Role.ADMIN).get("/reports/exports/sessions/", params(clinic.report_filter, names="on"))
    )
    assert rows[0][:4] == ["Session", "Chart number", "Given name", "Family name"]
    assert AuditEvent.objects.get(action=Action.EXPORT).detail.count("by name and chart number") == 1


def test_a_manager_asking_for_names_gets_a_message_and_no_file(clinic, client_for):
    response = client_for(Role.MANAGER).get(
        "/reports/exports/sessions/", params(clinic.report_filter, names="on")
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Only an administrator can export patient names" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_bad_range_gives_a_message_and_no_file(clinic, client_for):
    response = client_for(Role.MANAGER).get(
        "/reports/exports/sessions/", {"start": "2026-10-31", "end": "2026-10-01"}
    )
    assert response.status_code == 400
    assert "is before the start" in response.content.decode()


def test_xlsx_over_the_limit_gives_a_message_and_no_file(clinic, client_for, monkeypatch):
    import reports.exports

    real = reports.exports.build_xlsx
    monkeypatch.setattr(reports.exports, "build_xlsx", lambda *a, **k: real(*a, **{**k, "limit": 5}))
    response = client_for(Role.MANAGER).get(
        "/reports/exports/needle_points/", params(clinic.report_filter, file_format="xlsx")
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "8 rows, more than the 5 an XLSX download can hold" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_unknown_export_or_format_is_refused(clinic, client_for):
    client = client_for(Role.MANAGER)
    assert (
        client.get("/reports/exports/patients_everything/", params(clinic.report_filter)).status_code == 404
    )
    response = client.get("/reports/exports/sessions/", params(clinic.report_filter, file_format="pdf"))
    assert response.status_code == 400
    assert "Choose CSV or XLSX" in response.content.decode()


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK])
def test_clinicians_and_the_front_desk_get_403_on_exports(clinic, client_for, role):
    response = client_for(role).get("/reports/exports/sessions/", params(clinic.report_filter))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_export_page_links_keep_the_filters(clinic, client_for):
    html = client_for(Role.MANAGER).get("/reports/exports/", params(clinic.report_filter)).content.decode()
    assert f"/reports/exports/sessions/?start={clinic.report_filter.start.isoformat()}" in html
    assert 'data-testid="xlsx-side_effects"' in html


def test_a_csv_over_several_windows_has_one_header_and_rows_in_time_order(clinic, client_for):
    from datetime import timedelta

    from tests.factories import PatientFactory
    from tests.reports.conftest import add_session, at

    for day in range(7):
        add_session(PatientFactory(), clinic.ben, at(clinic.report_filter.start + timedelta(days=day), 7), [])
    rows = csv_rows(client_for(Role.MANAGER).get("/reports/exports/sessions/", params(clinic.report_filter)))
    assert [r[0] for r in rows].count("Session") == 1
    started = [r[2] for r in rows[1:]]
    assert started == sorted(started)
    assert len(rows) == 1 + 4 + 7


@pytest.mark.django_db
def test_no_query_string_ever_gives_a_500(client_for):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    client = client_for(Role.MANAGER)
    junk = st.one_of(st.text(max_size=20), st.dates().map(str), st.integers().map(str))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(start=junk, end=junk, therapist=junk, location=junk, names=junk, file_format=junk)
    def check(start, end, therapist, location, names, file_format):
        query = {
            "start": start,
            "end": end,
            "therapist": therapist,
            "location": location,
            "names": names,
            "file_format": file_format,
        }
        for url in ("/reports/", "/reports/safety/", "/reports/exports/", "/reports/exports/sessions/"):
            response = client.get(url, query)
            assert response.status_code in (200, 400), (url, query, response.status_code)
            if response.status_code == 200 and hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)

    check()
