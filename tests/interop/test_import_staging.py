"""The dry run reads and checks each patient row once and stages it; the confirmation matches the staged
rows against the registry as it stands then, and writes the new patients from them. What the dry run
staged is never a patient until confirmed, and leaves the database with the import or the discard."""

import pytest

from audit.models import Action, AuditEvent
from audit.services import audited_transaction
from interop.models import ImportBatch, ImportedRecord, StagedPatient
from interop.services import ImportRefused, confirm_import, remap, start_import
from patients.models import Patient
from tests.factories import PatientFactory

from .conftest import fixture_bytes, upload

pytestmark = pytest.mark.django_db


class Upload:
    def __init__(self, data, name="patients.csv"):
        self.data, self.name = data, name

    def read(self):
        return self.data


def dry_run(admin_client):
    upload(admin_client, fixture_bytes("jane_patients.csv"))
    return ImportBatch.objects.latest("id")


def test_the_dry_run_stages_every_row_and_registers_nobody(admin_client, clinic):
    before = Patient.objects.count()
    batch = dry_run(admin_client)
    staged = {s.line: s for s in StagedPatient.objects.filter(batch=batch)}
    assert len(staged) == batch.result["patients"]["rows"] == 8
    assert staged[5].refusal.startswith("invalid PHN check digit") and staged[5].date_of_birth is None
    amelie = staged[2]
    assert (amelie.refusal, amelie.given_name, str(amelie.date_of_birth)) == ("", "Amélie", "1985-03-14")
    assert (amelie.phone, amelie.phone_alternate, amelie.emergency_contact_phone) == (
        "+16045550101",
        "+16045550102",
        "+16045550103",
    )
    assert Patient.objects.count() == before
    assert not ImportedRecord.objects.exists()


def test_a_patient_registered_after_the_dry_run_is_matched_not_created(admin_client, clinic):
    batch = dry_run(admin_client)
    kenji = PatientFactory(given_name="Kenji", family_name="Sato", date_of_birth="1972-11-02")
    confirm_import(batch, by=batch.created_by)
    assert Patient.objects.filter(family_name="Sato").get() == kenji
    record = ImportedRecord.objects.get(source_id="1002")
    assert record.patient == kenji and not record.created
    event = AuditEvent.objects.get(object_type="interop.importbatch", action=Action.CREATE)
    assert "patients: 2 created, 3 matched, 0 already imported, 3 refused" in event.detail


def test_two_batches_of_one_file_create_its_patients_once(admin_client, clinic):
    first, second = dry_run(admin_client), dry_run(admin_client)
    confirm_import(first, by=first.created_by)
    count = Patient.objects.count()
    with pytest.raises(ImportRefused, match="Nothing can be imported"):
        confirm_import(second, by=second.created_by)
    assert Patient.objects.count() == count
    assert ImportedRecord.objects.filter(batch=second).count() == 0


def test_the_staged_rows_leave_with_the_import_and_with_the_discard(admin_client, clinic):
    imported, discarded = dry_run(admin_client), dry_run(admin_client)
    confirm_import(imported, by=imported.created_by)
    admin_client.post(f"/interop/import/{discarded.pk}/discard/")
    assert not StagedPatient.objects.exists()


def test_changing_the_mapping_stages_the_rows_again(admin_client, clinic):
    batch = dry_run(admin_client)
    columns = dict(batch.mapping["patients"])
    columns["Health Number"] = ""  # the PHN column ignored: the row refused for its check digit is read
    remap(batch, {"patients": columns})
    staged = StagedPatient.objects.filter(batch=batch)
    assert staged.count() == 8
    assert staged.get(line=5).refusal == "" and staged.get(line=5).phn == ""
    assert not staged.exclude(phn="").exists()


def test_a_staged_row_changed_behind_the_dry_run_is_refused_by_the_database(admin_client, clinic):
    """The database's own rules hold for the INSERT ... SELECT as for any insert: a staged PHN that is not
    ten digits starting with 9 (written here by hand, past the dry run's check) stops the whole import."""
    batch = dry_run(admin_client)
    StagedPatient.objects.filter(batch=batch, line=2).update(phn="123")
    before = Patient.objects.count()
    with pytest.raises(ImportRefused, match="The database refused a row"):
        confirm_import(batch, by=batch.created_by)
    assert Patient.objects.count() == before
    assert not ImportedRecord.objects.exists()


def test_the_service_stages_a_file_as_the_page_does(clinic, django_user_model):
    from accounts.models import Role

    admin = django_user_model.objects.create_user("a@clinic.test", None, full_name="A", role=Role.ADMIN)
    batch = start_import(patients_file=Upload(fixture_bytes("cliniko_patients.csv")), options={}, by=admin)
    assert StagedPatient.objects.filter(batch=batch).count() == batch.result["patients"]["rows"]
    confirm_import(batch, by=admin)
    created = ImportedRecord.objects.filter(batch=batch, created=True).order_by("row_number")
    charts = [r.patient.chart_number for r in created]
    assert charts == sorted(charts)  # chart numbers follow the file's order


def test_the_patients_service_registers_staged_rows_in_line_order_with_one_audit_event(admin_client, clinic):
    """patients.services.register_from_staging, called directly: the staged rows asked for become patients
    (chart numbers in line order, the search columns filled), a line with no staged row is left out of
    what it returns (the import refuses then), and one audit event counts them."""
    from patients.services import register_from_staging, search_patients

    batch = dry_run(admin_client)
    by = batch.created_by
    with audited_transaction():
        created = register_from_staging(
            StagedPatient._meta.db_table, batch.pk, [3, 2, 999], by=by, detail="a test"
        )
    assert sorted(created) == [2, 3]
    first, second = Patient.objects.get(pk=created[2]), Patient.objects.get(pk=created[3])
    assert (first.given_name, str(first.phone)) == ("Amélie", "+16045550101")
    assert first.chart_number < second.chart_number and first.created_by == by
    assert first in search_patients("amelie tremblay")
    event = AuditEvent.objects.get(object_type="patients.patient", action=Action.CREATE)
    assert event.detail == "2 patients registered at once: a test"


def test_a_batch_left_pending_over_a_day_is_discarded_with_its_staged_rows_at_the_next_upload(
    admin_client, clinic
):
    from datetime import timedelta

    from django.utils import timezone

    from interop.models import BatchStatus

    old, recent = dry_run(admin_client), dry_run(admin_client)
    ImportBatch.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    latest = dry_run(admin_client)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == BatchStatus.DISCARDED and not bytes(old.patients_file)
    assert not StagedPatient.objects.filter(batch=old).exists()
    assert recent.status == BatchStatus.PENDING and StagedPatient.objects.filter(batch=recent).count() == 8
    assert StagedPatient.objects.filter(batch=latest).count() == 8
