"""The manager's exports prepared in the background (reports/background.py): the same file as the download,
written by the task runner, for "My exports"; audited as the export it is (filters, row count) and as the
background export it becomes (asked, prepared, downloaded)."""

import io

import pytest
from openpyxl import load_workbook

from accounts.models import Role
from audit.models import Action, AuditEvent
from outbox.models import BackgroundExport, ExportStatus

from .test_export_views import params


def prepare(client, key, report_filter, file_format, capture, **extra):
    query = "&".join(f"{name}={value}" for name, value in params(report_filter, **extra).items())
    with capture(execute=True):
        return client.post(f"/reports/exports/{key}/?{query}", {"file_format": file_format})


def download(client, export):
    return b"".join(client.get(f"/outbox/exports/{export.pk}/").streaming_content)


def test_a_csv_prepared_in_the_background_is_the_download(
    clinic, client_for, django_capture_on_commit_callbacks
):
    client = client_for(Role.MANAGER)
    response = prepare(
        client, "needle_points", clinic.report_filter, "csv", django_capture_on_commit_callbacks
    )
    assert response.status_code == 302 and response.url == "/outbox/exports/"
    export = BackgroundExport.objects.get()
    assert export.status == ExportStatus.DONE and export.requested_by == client.user
    assert export.filename.endswith(".csv") and export.description.startswith("Needle points, CSV: from ")
    streamed = b"".join(
        client.get("/reports/exports/needle_points/", params(clinic.report_filter)).streaming_content
    )
    assert download(client, export) == streamed
    prepared, direct = AuditEvent.objects.filter(object_type="reports.export").order_by("id")
    assert prepared.actor == direct.actor == client.user and prepared.detail == direct.detail
    assert prepared.detail.endswith("8 rows") and "8 rows" in export.summary
    downloaded = AuditEvent.objects.get(action=Action.EXPORT, object_type="outbox.backgroundexport")
    assert "Needle points, CSV" in downloaded.detail and "8 rows" in downloaded.detail


def test_an_xlsx_prepared_in_the_background(clinic, client_for, django_capture_on_commit_callbacks):
    client = client_for(Role.MANAGER)
    prepare(client, "sessions", clinic.report_filter, "xlsx", django_capture_on_commit_callbacks)
    export = BackgroundExport.objects.get()
    assert export.status == ExportStatus.DONE
    sheet = load_workbook(io.BytesIO(download(client, export))).worksheets[0]
    assert sheet.max_row == 4 + 1


def test_bad_input_queues_nothing(clinic, client_for, django_capture_on_commit_callbacks):
    client = client_for(Role.MANAGER)
    bad_format = prepare(client, "sessions", clinic.report_filter, "pdf", django_capture_on_commit_callbacks)
    assert bad_format.status_code == 400 and "Choose CSV or XLSX." in bad_format.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        bad_dates = client.post("/reports/exports/sessions/?start=2025-13-01&end=x", {"file_format": "csv"})
    assert bad_dates.status_code == 400
    names = prepare(
        client, "sessions", clinic.report_filter, "csv", django_capture_on_commit_callbacks, names=1
    )
    assert names.status_code == 400
    assert client.post("/reports/exports/nothing/", {"file_format": "csv"}).status_code == 404
    assert not BackgroundExport.objects.exists()


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK])
def test_roles_without_reports_cannot_queue_one(clinic, client_for, role, django_capture_on_commit_callbacks):
    client = client_for(role)
    assert (
        prepare(
            client, "sessions", clinic.report_filter, "csv", django_capture_on_commit_callbacks
        ).status_code
        == 403
    )
    assert not BackgroundExport.objects.exists()


def test_the_export_page_offers_it(clinic, client_for):
    page = client_for(Role.MANAGER).get("/reports/exports/", params(clinic.report_filter)).content.decode()
    assert 'data-testid="bg-csv-sessions"' in page and 'data-testid="bg-xlsx-needle_points"' in page
