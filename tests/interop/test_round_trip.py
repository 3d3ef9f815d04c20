"""An exported Bundle read back as FHIR R4 (fhir.resources' models, not our dicts) holds every needle point,
every consent decision and every side effect of the record, with what each says."""

import json

import pytest
from fhir.resources.bundle import Bundle

from consent.models import RiskDecision
from interop import codes
from interop.services import export_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def read_back(record):
    document, _counts = export_patient(record.patient, by=record.physio)
    bundle = Bundle.parse_raw(document)
    return {entry.resource.resource_type: [] for entry in bundle.entry} | _group(bundle)


def _group(bundle):
    grouped = {}
    for entry in bundle.entry:
        grouped.setdefault(entry.resource.resource_type, []).append(entry.resource)
    return grouped


def ext(element, url):
    return next(e for e in element.extension if e.url == url)


def test_every_needle_point_comes_back(read_back, record):
    found = {}
    for procedure in read_back["Procedure"]:
        site = procedure.bodySite[0]
        found[int(procedure.identifier[0].value)] = (
            site.coding[0].display,
            ext(site, codes.EXT_LATERALITY).valueCodeableConcept.coding[0].code,
            float(ext(procedure, codes.EXT_DEPTH).valueQuantity.value),
            ext(procedure, codes.EXT_INSERTIONS).valueInteger,
            procedure.usedCode[0].coding[0].display,
        )
    laterality = {"L": "7771000", "R": "24028007", "B": "51440002"}
    assert found == {
        p.pk: (p.muscle.name, laterality[p.side], float(p.depth_mm), p.insertions, str(p.needle_size))
        for p in record.points
    }
    twitches = {
        o.partOf[0].reference: o.valueCodeableConcept.coding[0].code
        for o in read_back["Observation"]
        if o.code.coding[0].code == "local-twitch-response"
    }
    procedure_urls = {int(p.identifier[0].value): f"urn:uuid:{p.id}" for p in read_back["Procedure"]}
    assert {pk: twitches[url] for pk, url in procedure_urls.items()} == {
        p.pk: p.twitch_response for p in record.points
    }


def test_every_consent_decision_comes_back(read_back, record):
    found = {}
    for consent in read_back["Consent"]:
        for region in consent.provision.provision:
            for decision in region.provision:
                risk = next(c for c in decision.code[0].coding if c.system == codes.RISK_ITEM)
                found[(int(consent.identifier[0].value), int(risk.code))] = decision.type == "permit"
    expected = {
        (d.record_id, d.risk_item_id): d.accepted
        for d in RiskDecision.objects.filter(record__patient=record.patient)
    }
    assert found == expected
    assert len(expected) == 6 and not all(expected.values())


def test_every_side_effect_comes_back(read_back, record):
    found = {
        int(event.identifier.value): (
            event.event.coding[0].code,
            next(c.code for c in event.severity.coding if c.system == codes.WHITE_SEVERITY),
        )
        for event in read_back["AdverseEvent"]
    }
    assert found == {e.pk: (e.type, e.severity) for e in record.side_effects}


def test_the_pdfs_come_back_whole(read_back, record):
    import base64

    consent = next(c for c in read_back["Consent"] if int(c.identifier[0].value) == record.consent.pk)
    data = base64.b64decode(consent.sourceAttachment.data)
    assert data.startswith(b"%PDF") and len(data) == consent.sourceAttachment.size
    assert json.dumps([d.status for d in read_back["DocumentReference"]]) == '["current", "current"]'
