"""Who may export what: a patient's Bundle for the physiotherapists and the administrator (a patient's request
for their record), the clinic's Bulk Data for the administrator; every export audited; refused for the front
desk and the manager (and audited as refused)."""

import io
import json
import zipfile

import pytest

from accounts.models import Role
from audit.models import Action, AuditEvent
from tests.factories import PhysioFactory

from .fhir_checks import references, validate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.ADMIN])
def test_a_clinician_or_the_administrator_downloads_a_patients_record(client_for, record, role):
    client = client_for(role)
    response = client.get(f"/interop/fhir/patient/{record.patient.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="fhir-{record.patient.chart_number}'
    )
    bundle = json.loads(response.content)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    event = AuditEvent.objects.get(action=Action.EXPORT, actor=client.user)
    assert event.patient_id == record.patient.pk
    assert "Procedure 3" in event.detail


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER])
def test_the_front_desk_and_the_manager_are_refused_a_patients_record(client_for, record, role):
    client = client_for(role)
    for method in (client.get, client.post):
        assert method(f"/interop/fhir/patient/{record.patient.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor=client.user).count() == 2


def test_a_physio_outside_the_care_team_must_break_the_glass(client_for, record, settings):
    settings.CHART_ACCESS = "care_team"
    client = client_for(PhysioFactory())
    response = client.get(f"/interop/fhir/patient/{record.patient.pk}/")
    assert response.status_code == 302 and "glass" in response.url
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()
    treating = client_for(record.physio)
    assert treating.get(f"/interop/fhir/patient/{record.patient.pk}/").status_code == 200


def test_an_unknown_patient_is_a_404(client_for, db):
    assert client_for(Role.PHYSIO).get("/interop/fhir/patient/987654/").status_code == 404


def test_the_chart_links_clinicians_to_the_export(client_for, record):
    page = client_for(Role.PHYSIO).get(f"/patients/{record.patient.pk}/").content.decode()
    assert f"/interop/fhir/patient/{record.patient.pk}/" in page
    desk = client_for(Role.FRONT_DESK).get(f"/patients/{record.patient.pk}/").content.decode()
    assert "/interop/fhir/patient/" not in desk


def bulk_files(response):
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_administrator_streams_the_clinic_as_bulk_data_ndjson(client_for, record):
    client = client_for(Role.ADMIN)
    response = client.get("/interop/fhir/bulk.zip")
    assert response.status_code == 200 and response.streaming
    files = bulk_files(response)
    manifest = json.loads(files["manifest.json"])
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts["Procedure"] == 3 and counts["AdverseEvent"] == 2 and counts["Consent"] == 2
    ids = set()
    resources = []
    for item in manifest["output"]:
        lines = files[item["url"]].decode().splitlines()
        assert len(lines) == item["count"]
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == item["type"]
            validate(resource)
            ids.add(f"{resource['resourceType']}/{resource['id']}")
            resources.append(resource)
    assert {ref for resource in resources for ref in references(resource)} <= ids
    consent = next(r for r in resources if r["resourceType"] == "Consent")
    assert consent["sourceAttachment"]["url"].startswith("http://testserver/consent/")
    event = AuditEvent.objects.get(action=Action.EXPORT, object_type="interop.bulk_export")
    assert "Procedure 3" in event.detail and "incomplete" not in event.detail


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER])
def test_only_the_administrator_exports_the_whole_clinic(client_for, record, role):
    client = client_for(role)
    assert client.get("/interop/fhir/").status_code == 403
    assert client.get("/interop/fhir/bulk.zip").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_an_abandoned_download_is_audited_as_incomplete(record, monkeypatch):
    from interop.bulk import stream_bulk_export

    monkeypatch.setattr("interop.bulk.CHUNK_BYTES", 64)
    stream = stream_bulk_export(base_url="https://clinic.example", by=record.physio)
    assert next(stream)
    stream.close()  # what the WSGI server does when the client goes away
    event = AuditEvent.objects.get(action=Action.EXPORT, object_type="interop.bulk_export")
    assert "incomplete" in event.detail


def test_the_command_writes_the_bulk_data_layout_and_a_patients_bundle(record, tmp_path):
    from django.core.management import call_command

    call_command("export_fhir", str(tmp_path / "bulk"), "--base-url", "https://clinic.example")
    manifest = json.loads((tmp_path / "bulk" / "manifest.json").read_text())
    assert {item["type"] for item in manifest["output"]} >= {"Patient", "Procedure", "Observation"}
    lines = (tmp_path / "bulk" / "Patient.ndjson").read_text().splitlines()
    assert [json.loads(line)["birthDate"] for line in lines] == [record.patient.date_of_birth.isoformat()]
    call_command("export_fhir", str(tmp_path / "one"), "--patient", record.patient.chart_number)
    bundle = json.loads((tmp_path / "one" / f"{record.patient.chart_number}.json").read_text())
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 2
