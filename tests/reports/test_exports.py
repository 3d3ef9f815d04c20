"""The export machinery, proved on a small export of patients (the other apps' exports use the same code)."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import Action, AuditEvent
from patients.models import Patient
from reports.exports import Export, build_xlsx, local_time, stream_csv
from reports.filters import ExportTooLarge, ReportFilter
from tests.factories import AdminFactory, ManagerFactory, PatientFactory


class PatientExport(Export):
    key = "test_patients"
    name = "Patients"
    columns = [("chart_number", "Chart number"), ("born", "Date of birth"), ("registered", "Registered")]

    def rows(self, report_filter):
        return (
            Patient.objects.filter(
                created_at__gte=report_filter.starts_at, created_at__lt=report_filter.ends_before
            )
            .annotate(born=F("date_of_birth"), registered=local_time("created_at"))
            .order_by("id")
        )

    def with_names(self, queryset):
        return queryset.annotate(first=F("given_name"), last=F("family_name"))

    name_columns = [("first", "Given name"), ("last", "Family name")]


EXPORT = PatientExport()


def today_filter():
    today = timezone.localdate()
    return ReportFilter(today - timedelta(days=1), today)


def read_csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_csv_has_a_header_and_one_line_per_row_by_chart_number():
    patients = PatientFactory.create_batch(3, given_name="Émile", family_name="Ng, Jr.")
    response = stream_csv(EXPORT, today_filter(), user=ManagerFactory())
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    lines = read_csv(response)
    assert lines[0] == ["Chart number", "Date of birth", "Registered"]
    assert [line[0] for line in lines[1:]] == [p.chart_number for p in patients]
    assert lines[1][1] == patients[0].date_of_birth.isoformat()
    assert "Émile" not in str(lines)


@pytest.mark.django_db
def test_csv_rows_outside_the_range_are_left_out():
    PatientFactory()
    old = timezone.localdate() - timedelta(days=30)
    lines = read_csv(stream_csv(EXPORT, ReportFilter(old, old), user=ManagerFactory()))
    assert lines == [["Chart number", "Date of birth", "Registered"]]


@pytest.mark.django_db
def test_an_administrator_may_add_names_and_they_survive_commas_and_accents():
    patient = PatientFactory(given_name="Émile", family_name="Ng, Jr.")
    lines = read_csv(stream_csv(EXPORT, today_filter(), user=AdminFactory(), names=True))
    assert lines[0] == ["Chart number", "Given name", "Family name", "Date of birth", "Registered"]
    assert lines[1][:3] == [patient.chart_number, "Émile", "Ng, Jr."]


@pytest.mark.django_db
def test_a_manager_may_not_export_names():
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        stream_csv(EXPORT, today_filter(), user=ManagerFactory(), names=True)
    with pytest.raises(PermissionDenied):
        build_xlsx(EXPORT, today_filter(), user=ManagerFactory(), names=True)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
def test_a_finished_csv_is_audited_with_its_filters_and_row_count():
    PatientFactory.create_batch(4)
    manager = ManagerFactory()
    report_filter = today_filter()
    response = stream_csv(EXPORT, report_filter, user=manager)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()  # nothing known before it runs
    read_csv(response)
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.actor == manager
    assert event.object_id == "test_patients"
    assert report_filter.as_audit() in event.detail
    assert event.detail.endswith("patients by chart number; 4 rows")


@pytest.mark.django_db(transaction=True)
def test_an_abandoned_download_is_audited_as_incomplete_and_the_connection_still_works(monkeypatch):
    monkeypatch.setattr("reports.exports.CHUNK_BYTES", 64)
    PatientFactory.create_batch(40)
    response = stream_csv(EXPORT, today_filter(), user=ManagerFactory())
    stream = iter(response.streaming_content)
    first = next(stream)
    assert first.startswith(b"Chart number")
    response.close()  # what the WSGI server does when the client goes away
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert "stopped before the end" in event.detail and "incomplete" in event.detail
    assert Patient.objects.count() == 40


@pytest.mark.django_db
def test_xlsx_holds_the_same_rows_as_the_csv():
    PatientFactory.create_batch(3)
    manager = ManagerFactory()
    csv_lines = read_csv(stream_csv(EXPORT, today_filter(), user=manager))
    file, rows = build_xlsx(EXPORT, today_filter(), user=manager)
    sheet = load_workbook(file, read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == 3
    assert cells[0] == csv_lines[0]
    assert [row[0] for row in cells[1:]] == [line[0] for line in csv_lines[1:]]
    assert [row[1].date() for row in cells[1:]] == [date.fromisoformat(line[1]) for line in csv_lines[1:]]
    events = AuditEvent.objects.filter(action=Action.EXPORT, detail__contains="xlsx")
    assert [e.detail.rsplit("; ", 1)[1] for e in events] == ["3 rows"]


@pytest.mark.django_db
def test_xlsx_over_the_row_limit_is_refused_before_any_file_exists():
    PatientFactory.create_batch(3)
    with pytest.raises(ExportTooLarge, match="3 rows, more than the 2 an XLSX download can hold"):
        build_xlsx(EXPORT, today_filter(), user=ManagerFactory(), limit=2)
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_xlsx_limit_fits_in_a_sheet_with_its_header():
    from reports.filters import XLSX_ROW_LIMIT, XLSX_SHEET_ROWS

    assert XLSX_SHEET_ROWS + 1 == 2**20
    assert XLSX_ROW_LIMIT <= XLSX_SHEET_ROWS


def test_the_windows_are_the_first_day_then_the_rest_of_the_range():
    from reports.exports import windows

    for report_filter in [
        ReportFilter(date(2026, 1, 1), date(2026, 12, 31)),
        ReportFilter(date(2007, 1, 1), date(2026, 12, 31)),
        ReportFilter(date(2026, 3, 7), date(2026, 3, 8)),
    ]:
        parts = list(windows(report_filter))
        # The first bytes after one day's rows; then one statement for the rest, whatever the range.
        assert [p.days for p in parts] == [1, report_filter.days - 1]
        assert parts[0].start == report_filter.start and parts[-1].end == report_filter.end
        assert parts[1].start == parts[0].end + timedelta(days=1)
    single = ReportFilter(date(2026, 3, 8), date(2026, 3, 8))
    assert list(windows(single)) == [single]


def test_each_window_runs_the_export_sql_with_its_own_bounds():
    from reports.exports import REGISTRY, window_params, windows

    report_filter = ReportFilter(date(2026, 1, 1), date(2026, 3, 31))
    export = REGISTRY["sessions"]
    sql, params, _ = export.sql(report_filter, csv_safe=True)
    for window in windows(report_filter):
        window_sql, expected = export.sql(window, csv_safe=True)[:2]
        assert (sql, window_params(params, report_filter, window)) == (window_sql, list(expected))
    with pytest.raises(ValueError):
        window_params(["America/Vancouver"], report_filter, report_filter)
