"""The dry run of a Jane or Cliniko export: what would be created, matched or refused (with each reason),
and nothing written until the administrator confirms."""

import pytest

from appointments.models import Appointment
from interop.models import BatchStatus, ImportBatch, ImportedRecord
from patients.models import Patient

from .conftest import fixture_bytes, upload

pytestmark = pytest.mark.django_db


def reasons(batch):
    return {(kind, row): reason for kind, row, _source, reason in batch.result["refusals"]}


def test_a_jane_export_is_recognised_and_counted_without_writing_anything(admin_client, clinic):
    patients_before, appointments_before = Patient.objects.count(), Appointment.objects.count()
    response = upload(
        admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv")
    )
    assert response.status_code == 302
    batch = ImportBatch.objects.get()
    assert batch.source_system == "jane"
    assert batch.status == BatchStatus.PENDING
    assert batch.result["patients"] == {"rows": 8, "create": 3, "match": 2, "already": 0, "refuse": 3}
    assert Patient.objects.count() == patients_before
    assert Appointment.objects.count() == appointments_before
    assert not ImportedRecord.objects.exists()


def test_each_refused_row_says_why(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"), fixture_bytes("jane_appointments.csv"))
    found = reasons(ImportBatch.objects.get())
    assert found[("patients", 5)].startswith("invalid PHN check digit")
    assert found[("patients", 6)].startswith("unparseable date of birth")
    assert found[("patients", 7)] == "missing name: no given name"
    assert "overlaps row 2" in found[("appointments", 3)]
    assert found[("appointments", 6)] == "its patient (row 5) was refused"
    assert "no member of staff named" in found[("appointments", 7)]
    assert found[("appointments", 9)] == "no patient with id 9999 in this import or an earlier one"


def test_the_page_shows_the_counts_and_the_refusals(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"))
    response = admin_client.get(f"/interop/import/{ImportBatch.objects.get().pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "invalid PHN check digit" in page
    assert "Occupation" in page  # the column Jane has and nothing here takes: offered for mapping


def test_matches_go_by_name_and_date_of_birth_or_by_phn(admin_client, clinic):
    upload(admin_client, fixture_bytes("jane_patients.csv"))
    warnings = {row: message for _k, row, _s, message in ImportBatch.objects.get().result["warnings"]}
    assert "the same person as row 2" in warnings[9]  # same PHN as Amélie, name typed without the accent
    assert "e-mail" in " ".join(m for r, m in warnings.items() if r == 8)


def mapping_form(batch, **changes):
    """The mapping form as the page fills it (file column order), with `changes` {header: field}."""
    from interop.imports import headers

    form = {"date_order": "auto"}
    for kind, names in headers(batch).items():
        for index, header in enumerate(names):
            form[f"{kind}-{index}"] = changes.get(header, batch.mapping[kind][header])
    return form


def test_a_cliniko_export_is_recognised_and_an_unknown_column_can_be_mapped(admin_client, clinic):
    upload(admin_client, fixture_bytes("cliniko_patients.csv"))
    batch = ImportBatch.objects.get()
    assert batch.source_system == "cliniko"
    assert batch.result["unknown_columns"]["patients"] == ["BC PHN"]
    assert batch.result["patients"]["refuse"] == 2  # month 13, no name
    page = admin_client.get(f"/interop/import/{batch.pk}/").content.decode()
    assert "BC PHN" in page and "unknown" in page
    response = admin_client.post(f"/interop/import/{batch.pk}/", mapping_form(batch, **{"BC PHN": "phn"}))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.mapping["patients"]["BC PHN"] == "phn"
    assert batch.result["patients"]["refuse"] == 3  # now also the wrong check digit of Sam Lee
    assert reasons(batch)[("patients", 7)].startswith("invalid PHN check digit")


def test_two_columns_cannot_fill_one_field(admin_client, clinic):
    upload(admin_client, fixture_bytes("cliniko_patients.csv"))
    batch = ImportBatch.objects.get()
    response = admin_client.post(f"/interop/import/{batch.pk}/", mapping_form(batch, Title="given_name"))
    assert response.status_code == 400
    assert "both map to" in response.content.decode()
    batch.refresh_from_db()
    assert batch.mapping["patients"]["Title"] == ""


def test_an_ambiguous_date_is_refused_unless_the_order_is_chosen(admin_client, clinic):
    data = b"Patient Number,First Name,Last Name,Birth Date\n1,Ann,Ames,03/04/1985\n"
    upload(admin_client, data)
    batch = ImportBatch.objects.get()
    assert "choose the date order" in reasons(batch)[("patients", 2)]
    upload(admin_client, data, date_order="day_first")
    assert ImportBatch.objects.latest("id").result["patients"]["create"] == 1
