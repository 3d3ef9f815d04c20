"""Files that are not what the import reads get a clear message and write nothing; spreadsheet habits
(a byte order mark, semicolons) are read as they are and said so."""

import codecs
import csv
import io
import os
import random

import pytest

from interop.models import ImportBatch
from patients.models import Patient

from .conftest import fixture_bytes, upload

pytestmark = pytest.mark.django_db


def refused(client, data, **fields):
    response = upload(client, data, **fields)
    assert response.status_code == 400
    assert not ImportBatch.objects.exists()
    return response.content.decode()


def test_a_file_in_another_encoding_is_refused_naming_the_line(admin_client, clinic):
    latin = fixture_bytes("jane_patients.csv").decode().encode("cp1252")
    page = refused(admin_client, latin)
    assert "is not UTF-8 (CSV UTF-8) text" in page
    assert "line 2" in page


def test_the_same_file_is_read_when_its_encoding_is_chosen(admin_client, clinic):
    latin = fixture_bytes("jane_patients.csv").decode().encode("cp1252")
    assert upload(admin_client, latin, encoding="cp1252").status_code == 302
    assert ImportBatch.objects.get().result["patients"]["create"] == 3


def test_a_byte_order_mark_is_skipped_and_said(admin_client, clinic):
    assert upload(admin_client, codecs.BOM_UTF8 + fixture_bytes("jane_patients.csv")).status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.source_system == "jane"  # the first header is "Patient Number", not "\ufeffPatient Number"
    assert batch.result["patients"]["create"] == 3
    assert any("byte order mark" in note for note in batch.result["notes"])


def test_semicolon_separators_are_read_and_said(admin_client, clinic):
    rows = list(csv.reader(io.StringIO(fixture_bytes("jane_patients.csv").decode(), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    assert upload(admin_client, out.getvalue().encode()).status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.result["patients"]["create"] == 3
    assert any("semicolons" in note for note in batch.result["notes"])


def test_fifty_megabytes_of_junk_are_refused(admin_client, clinic):
    rng = random.Random(16)
    line = "".join(rng.choice("abcdefghij klmnop") for _ in range(99)) + "\n"
    junk = (line * (50 * 1024 * 1024 // len(line) + 1)).encode()
    assert len(junk) >= 50 * 1024 * 1024
    page = refused(admin_client, junk)
    assert "is not the header of a Jane or Cliniko patient export" in page
    assert not Patient.objects.exclude(pk=clinic.pk).exists()


def test_a_binary_file_is_refused(admin_client, clinic):
    assert "a binary file, not text" in refused(admin_client, os.urandom(4096) + b"\x00" * 16)


def test_a_broken_zip_is_refused_as_a_damaged_workbook(admin_client, clinic):
    assert "a damaged Excel workbook" in refused(admin_client, b"PK\x03\x04" + os.urandom(2000))


def test_an_empty_file_and_broken_quoting_are_refused(admin_client, clinic):
    assert "The submitted file is empty" in refused(admin_client, b"")
    page = refused(admin_client, b'Patient Number,First Name,Last Name,Birth Date\n1,"Ann,Ames,1985-01-01\n')
    assert "is not valid CSV" in page


def test_a_file_over_the_limit_is_refused_before_it_is_read(admin_client, clinic, settings):
    settings.IMPORT_MAX_MEGABYTES = 1
    page = refused(admin_client, fixture_bytes("jane_patients.csv") + b"1,a,b,1985-01-01\n" * 70_000)
    assert "up to 1 MB" in page


def test_a_row_with_more_cells_than_the_header_is_refused_alone(admin_client, clinic):
    data = (
        b"Patient Number,First Name,Last Name,Birth Date\n1,Ann,Ames,1985-01-01,extra\n2,Bo,Berg,1990-02-02\n"
    )
    upload(admin_client, data)
    batch = ImportBatch.objects.get()
    assert batch.result["patients"]["create"] == 1
    assert batch.result["refusals"][0][3] == "5 cells where the header has 4 columns"
