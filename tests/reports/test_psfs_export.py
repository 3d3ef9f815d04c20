"""The manager's export of the Patient-Specific Functional Scale (issue 14 part 2): one row per activity
scored, with the scoring's PSFS score, filtered like every export; and the sessions export carries the
plan's review date."""

import csv
import io

from django.utils import timezone

from accounts.models import Role
from treatments.models import NeedlingSession


def params(report_filter, **extra):
    return {"start": report_filter.start.isoformat(), "end": report_filter.end.isoformat(), **extra}


def rows_of(response):
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_each_activity_is_a_row_with_its_scoring_and_the_psfs_score(clinic, client_for):
    rows = rows_of(client_for(Role.MANAGER).get("/reports/exports/psfs/", params(clinic.report_filter)))
    assert [(r["Activity"], r["Activity score (0-10)"], r["PSFS score"]) for r in rows] == [
        ("Reaching overhead", "3", "3.50"),
        ("Sleeping on the right side", "4", "3.50"),
        ("Running", "2", "4.33"),
        ("Stairs", "6", "4.33"),
        ("Golf", "5", "4.33"),
    ]
    covered = clinic.sessions["covered"]
    assert rows[0]["Session"] == str(covered.pk) and rows[0]["Chart number"] == covered.patient.chart_number
    assert rows[0]["Clinician"] == "Anna Physio" and rows[2]["Session"] == ""  # Ben's was between sessions
    assert rows[0]["Scored"].startswith(f"{timezone.localtime(covered.started_at):%Y-%m-%d %H:%M}")


def test_the_therapist_and_location_filters_apply(clinic, client_for):
    client = client_for(Role.MANAGER)
    ben = rows_of(client.get("/reports/exports/psfs/", params(clinic.report_filter, therapist=clinic.ben.pk)))
    assert {r["Activity"] for r in ben} == {"Running", "Stairs", "Golf"}
    # A scoring between sessions has no location; none of these sessions was booked at the East clinic.
    east = rows_of(
        client.get("/reports/exports/psfs/", params(clinic.report_filter, location=clinic.east.pk))
    )
    assert east == []


def test_the_xlsx_export_has_the_same_rows(clinic, client_for):
    from openpyxl import load_workbook

    response = client_for(Role.MANAGER).get(
        "/reports/exports/psfs/", params(clinic.report_filter, file_format="xlsx")
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][-2:] == ["Activity", "Activity score (0-10)"] and len(values) == 6


def test_the_sessions_export_carries_the_plan_review_date(clinic, client_for):
    covered = clinic.sessions["covered"]
    review = timezone.localtime(covered.started_at).date().replace(day=1)
    NeedlingSession.objects.filter(pk=covered.pk).update(review_on=review)
    rows = rows_of(client_for(Role.MANAGER).get("/reports/exports/sessions/", params(clinic.report_filter)))
    by_session = {r["Session"]: r["Plan review"] for r in rows}
    assert by_session[str(covered.pk)] == review.isoformat()
    assert by_session[str(clinic.sessions["ben"].pk)] == ""
