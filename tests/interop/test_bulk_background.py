"""The clinic-wide FHIR export on the task runner (issue 16 part 1): a clinic larger than
FHIR_BULK_BACKGROUND_OVER records is not streamed during the request; the administrator's request queues a
background export (outbox/exports.py), the page shows its status, and the ZIP it prepares (the Bulk Data
layout: one NDJSON file per resource type and manifest.json) is theirs alone to download, audited."""

import io
import json
import re
import zipfile

import pytest

from accounts.models import Role
from audit.models import Action, AuditEvent
from interop import bulk
from outbox.models import BackgroundExport, ExportStatus
from tests.conftest import Client
from tests.factories import AdminFactory

from .fhir_checks import references, validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def large(settings):
    settings.FHIR_BULK_BACKGROUND_OVER = 5  # the record fixture holds more than five records


def prepare(client, django_capture_on_commit_callbacks):
    """POST the page's button; the task (immediate backend in the suite) runs once the request commits."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/interop/fhir/", follow=True)


def test_a_small_clinic_streams_at_once(client_for, record):
    client = client_for(Role.ADMIN)
    assert bulk.clinic_size() <= 20000
    page = client.get("/interop/fhir/").content.decode()
    assert 'data-testid="bulk-download"' in page and "bulk-prepare" not in page
    response = client.post("/interop/fhir/")
    assert response.status_code == 302 and response.url == "/interop/fhir/bulk.zip"
    assert not BackgroundExport.objects.exists()


def test_a_large_clinic_is_prepared_in_the_background(
    client_for, record, large, django_capture_on_commit_callbacks
):
    client = client_for(Role.ADMIN)
    page = client.get("/interop/fhir/").content.decode()
    assert 'data-testid="bulk-prepare"' in page and "bulk-download" not in page
    refused = client.get("/interop/fhir/bulk.zip", follow=True)
    assert "too large to export during a request" in refused.content.decode()
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()

    response = prepare(client, django_capture_on_commit_callbacks)
    assert "being prepared in the background" in response.content.decode()
    export = BackgroundExport.objects.get()
    assert (export.status, export.requested_by, export.roles) == (
        ExportStatus.DONE,
        client.user,
        [Role.ADMIN],
    )
    assert export.filename.startswith("fhir-bulk-") and export.content_type == "application/zip"
    page = client.get("/interop/fhir/").content.decode()
    assert f"/outbox/exports/{export.pk}/" in page and "Procedure 3" in page

    download = client.get(f"/outbox/exports/{export.pk}/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert sorted(archive.namelist()) == sorted(
        [f"{kind}.ndjson" for kind in bulk.RESOURCE_TYPES] + ["manifest.json"]
    )
    counts = {item["type"]: item["count"] for item in manifest["output"]}
    assert counts["Procedure"] == 3 and counts["AdverseEvent"] == 2 and counts["Consent"] == 2
    ids, resources = set(), []
    for item in manifest["output"]:
        lines = archive.read(item["url"]).decode().splitlines()
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

    events = AuditEvent.objects.filter(object_type="outbox.backgroundexport").order_by("id")
    assert [(e.action, e.actor_id) for e in events] == [
        (Action.CREATE, client.user.pk),
        (Action.UPDATE, client.user.pk),
        (Action.EXPORT, client.user.pk),
    ]
    downloaded = events.get(action=Action.EXPORT)
    assert "FHIR Bulk Data" in downloaded.detail and "Procedure 3" in downloaded.detail
    assert export.sha256 in downloaded.detail and "incomplete" not in downloaded.detail


def test_another_administrator_neither_sees_nor_downloads_it(
    client_for, record, large, django_capture_on_commit_callbacks
):
    prepare(client_for(Role.ADMIN), django_capture_on_commit_callbacks)
    export = BackgroundExport.objects.get()
    other = Client()
    other.force_login(AdminFactory())
    assert f"/outbox/exports/{export.pk}/" not in other.get("/interop/fhir/").content.decode()
    assert other.get(f"/outbox/exports/{export.pk}/").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.MANAGER])
def test_only_the_administrator_asks_for_it(client_for, record, large, role):
    assert client_for(role).post("/interop/fhir/").status_code == 403
    assert not BackgroundExport.objects.exists()


def test_the_page_queries_the_same_whatever_the_number_of_exports(
    client_for, record, large, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = client_for(Role.ADMIN)
    prepare(client, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(14):
        client.get("/interop/fhir/")
    for _ in range(4):
        prepare(client, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(14):
        page = client.get("/interop/fhir/").content.decode()
    assert len(re.findall(r"/outbox/exports/\d+/", page)) == 5
