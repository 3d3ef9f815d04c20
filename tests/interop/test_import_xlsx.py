"""Jane exports XLSX too: a workbook is read through the same mapping, dry run and import as the CSV, its
typed cells (dates, numbers) read as the CSV writes them; a file that is not a workbook Excel can open
gets a clear message and writes nothing."""

import csv
import io
import zipfile
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from appointments.models import Appointment
from interop import workbooks
from interop.models import BatchStatus, ImportBatch, ImportedRecord
from patients.models import Patient

from .conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def workbook_bytes(rows, *, sheets=("Patients",)):
    book = Workbook()
    book.active.title = sheets[0]
    for row in rows:
        book.active.append(row)
    for title in sheets[1:]:
        book.create_sheet(title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def typed(rows):
    """The CSV fixture's rows as Excel holds them after a user edits the export: Amélie's date of birth a
    real date, PHNs and the header's columns untouched, the rest text."""
    header, *body = rows
    born, phn = header.index("Birth Date"), header.index("Health Number")
    for row in body:
        if row[0] == "1001":
            row[born] = datetime(1985, 3, 14)
        if row[phn].isdigit():
            row[phn] = int(row[phn])
    return [header, *body]


def fixture_rows(name):
    return list(csv.reader(io.StringIO(fixture_bytes(name).decode(), newline="")))


def upload_xlsx(client, patients, appointments=None, name="patients.xlsx"):
    data = {
        "patients_file": SimpleUploadedFile(name, patients),
        "encoding": "utf-8",
        "date_order": "auto",
    }
    if appointments is not None:
        data["appointments_file"] = SimpleUploadedFile("appointments.xlsx", appointments)
    return client.post("/interop/import/", data)


def refused(client, data, name="patients.xlsx"):
    response = upload_xlsx(client, data, name=name)
    assert response.status_code == 400
    assert not ImportBatch.objects.exists()
    assert not Patient.objects.exclude(family_name="Chen").exists()
    return response.content.decode()


def test_a_jane_workbook_gets_the_same_dry_run_as_its_csv(admin_client, clinic):
    patients = workbook_bytes(typed(fixture_rows("jane_patients.csv")))
    appointments = workbook_bytes(fixture_rows("jane_appointments.csv"), sheets=("Appointments",))
    assert upload_xlsx(admin_client, patients, appointments).status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.source_system == "jane"
    assert batch.result["patients"] == {"rows": 8, "create": 3, "match": 2, "already": 0, "refuse": 3}
    assert batch.result["appointments"]["create"] == 4
    assert any("Excel workbook" in note and "Patients" in note for note in batch.result["notes"])
    assert not ImportedRecord.objects.exists()


def test_a_workbook_is_imported_once_confirmed(admin_client, clinic):
    patients = workbook_bytes(typed(fixture_rows("jane_patients.csv")))
    appointments = workbook_bytes(fixture_rows("jane_appointments.csv"))
    upload_xlsx(admin_client, patients, appointments)
    batch = ImportBatch.objects.get()
    assert admin_client.post(f"/interop/import/{batch.pk}/confirm/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.IMPORTED
    amelie = Patient.objects.get(family_name="Tremblay")
    assert (str(amelie.date_of_birth), amelie.phn) == ("1985-03-14", "9123456780")
    assert Appointment.objects.count() == 4
    record = ImportedRecord.objects.get(kind="patient", source_id="1001")
    assert record.patient == amelie and record.row_number == 2  # the sheet's row, as a CSV's line


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused(admin_client, clinic):
    page = refused(admin_client, fixture_bytes("jane_patients.csv"))
    assert "named as an Excel workbook (.xlsx) but is not one" in page


def test_a_password_protected_workbook_is_refused_with_what_to_do(admin_client, clinic):
    # Excel writes a protected workbook as an OLE compound file holding an "EncryptedPackage" stream.
    protected = workbooks.OLE_MAGIC + b"\x00" * 504 + workbooks.ENCRYPTED + b"\x00" * 2048
    page = refused(admin_client, protected)
    assert "password-protected Excel workbook" in page
    assert "remove the password" in page


def test_a_workbook_whose_first_sheet_is_empty_is_refused(admin_client, clinic):
    page = refused(admin_client, workbook_bytes([], sheets=("Sheet1", "Patients")))
    assert "The first sheet (\u201cSheet1\u201d) of the patient file is empty" in page


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(admin_client, clinic, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_UNPACKED", 1024 * 1024)
    out = io.BytesIO(workbook_bytes(fixture_rows("jane_patients.csv")))
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\x00" * (2 * 1024 * 1024))
    page = refused(admin_client, out.getvalue())
    assert "unpacks to 2 MB" in page


def test_a_zip_without_a_workbook_and_a_damaged_workbook_are_refused(admin_client, clinic):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("patients.csv", fixture_bytes("jane_patients.csv"))
    assert "a zip archive but not an Excel workbook" in refused(admin_client, out.getvalue())
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("xl/workbook.xml", b"<not a workbook")
    assert "a damaged Excel workbook" in refused(admin_client, damaged.getvalue())


def test_a_workbook_of_junk_columns_is_refused_on_its_header(admin_client, clinic):
    page = refused(admin_client, workbook_bytes([["Colour", "Size"], ["red", 3]]))
    assert "not the header of a Jane or Cliniko patient export" in page


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(1985, 3, 14), "1985-03-14"),
        (datetime(2026, 10, 5, 9, 30), "2026-10-05 09:30:00"),
        (9123456780, "9123456780"),
        (6045550101.0, "6045550101"),
        (2.5, "2.5"),
        (True, "true"),
        (None, ""),
        ("  Amy ", "Amy"),
    ],
)
def test_typed_cells_read_as_the_csv_writes_them(value, text):
    assert workbooks.cell_text(value) == text
