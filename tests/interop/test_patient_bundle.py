"""A patient's whole record as a FHIR R4 Bundle: every resource valid R4, every reference inside the
Bundle, the codes of DOMAIN.md, and the real PDFs attached."""

import pytest

from interop import codes
from interop.services import patient_bundle

from .fhir_checks import extension, pdf_text, references, resources_of, validate


@pytest.fixture
def bundle(record):
    return patient_bundle(record.patient)


def test_every_resource_is_valid_fhir_r4(bundle):
    from fhir.resources.bundle import Bundle

    Bundle.parse_obj(bundle)
    kinds = set()
    for entry in bundle["entry"]:
        validate(entry["resource"])
        kinds.add(entry["resource"]["resourceType"])
    assert kinds == {
        "Patient", "Practitioner", "Location", "Appointment", "Consent", "Encounter", "Procedure",
        "Observation", "AdverseEvent", "DocumentReference",
    }  # fmt: skip


def test_every_reference_resolves_inside_the_bundle(bundle):
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    found = [ref for entry in bundle["entry"] for ref in references(entry["resource"])]
    assert found, "the resources reference each other"
    assert set(found) <= full_urls
    assert len(full_urls) == len(bundle["entry"])


def test_the_patient_carries_the_bc_phn_with_its_system(bundle, record):
    (patient,) = resources_of(bundle, "Patient")
    phn = next(i for i in patient["identifier"] if i["system"] == codes.BC_PHN)
    assert codes.BC_PHN == "https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id"
    assert phn["value"] == "9876543218"
    assert phn["type"]["coding"][0]["code"] == "JHN"
    assert patient["name"][0] == {"use": "official", "family": "Côté", "given": ["Zoë"]}
    assert patient["birthDate"] == record.patient.date_of_birth.isoformat()


def test_practitioners_carry_the_needling_authorisation_as_a_qualification(bundle, record):
    practitioners = resources_of(bundle, "Practitioner")
    assert {p["name"][0]["text"] for p in practitioners} == {"Priya Natarajan", "Ben Okafor"}
    priya = next(p for p in practitioners if p["name"][0]["text"] == "Priya Natarajan")
    needling = next(q for q in priya["qualification"] if q["code"]["coding"][0]["code"] == "dry-needling")
    profile = record.physio.clinician_profile
    assert needling["period"]["start"] == profile.needling_authorised_on.isoformat()
    assert needling["issuer"]["display"] == profile.regulator


def test_each_point_is_a_dry_needling_procedure_with_site_side_needle_depth_and_insertions(bundle, record):
    procedures = {p["identifier"][0]["value"]: p for p in resources_of(bundle, "Procedure")}
    assert set(procedures) == {str(p.pk) for p in record.points}
    trapezius = procedures[str(record.points[0].pk)]
    assert trapezius["code"]["coding"][0] == {
        "system": "http://snomed.info/sct", "code": "231082000", "display": "Dry needle acupuncture",
    }  # fmt: skip
    site = trapezius["bodySite"][0]
    assert site["coding"][0]["display"] == "Upper trapezius"
    assert extension(site, codes.EXT_LATERALITY)["valueCodeableConcept"]["coding"][0]["code"] == "24028007"
    assert trapezius["usedCode"][0]["coding"][0]["display"] == "0.25 x 40 mm"
    assert extension(trapezius, codes.EXT_DEPTH)["valueQuantity"] == {
        "value": 12.0, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm",
    }  # fmt: skip
    assert extension(trapezius, codes.EXT_INSERTIONS)["valueInteger"] == 3
    assert extension(trapezius, codes.EXT_SEGMENT)["valueCoding"]["code"] == "C4"
    assert trapezius["outcome"]["coding"][0]["code"] == "familiar"
    bilateral = procedures[str(record.points[2].pk)]
    assert (
        extension(bilateral["bodySite"][0], codes.EXT_LATERALITY)["valueCodeableConcept"]["coding"][0]["code"]
        == "51440002"
    )


def test_pain_is_observed_with_loinc_and_each_twitch_response_with_the_local_code_system(bundle, record):
    observations = resources_of(bundle, "Observation")
    pain = [o for o in observations if o["code"]["coding"][0]["code"] == "72514-3"]
    assert sorted((extension(o, codes.EXT_PAIN_TIMING)["valueCode"], o["valueInteger"]) for o in pain) == [
        ("after", 3),
        ("before", 6),
    ]
    assert all(o["code"]["coding"][0]["system"] == "http://loinc.org" for o in pain)
    twitches = [o for o in observations if o["code"]["coding"][0]["code"] == "local-twitch-response"]
    assert sorted(o["valueCodeableConcept"]["coding"][0]["code"] for o in twitches) == [
        "multiple",
        "none",
        "single",
    ]
    assert all(o["valueCodeableConcept"]["coding"][0]["system"] == codes.TWITCH for o in twitches)
    draft_twitch = next(o for o in twitches if o["valueCodeableConcept"]["coding"][0]["code"] == "single")
    assert draft_twitch["status"] == "preliminary"


def test_side_effects_are_adverse_events_with_seriousness_and_severity(bundle):
    events = {e["event"]["coding"][0]["code"]: e for e in resources_of(bundle, "AdverseEvent")}
    assert set(events) == {"bruising", "pneumothorax"}
    lung = events["pneumothorax"]
    assert {(c["system"], c["code"]) for c in lung["event"]["coding"]} >= {
        ("http://snomed.info/sct", "36118008"),
        ("http://hl7.org/fhir/sid/icd-10-cm", "J95.811"),
    }
    assert lung["seriousness"]["coding"][0]["code"] == "Serious"
    assert lung["severity"]["coding"][0]["code"] == "severe"
    assert events["bruising"]["seriousness"]["coding"][0]["code"] == "Non-serious"
    assert events["bruising"]["severity"]["coding"][0]["code"] == "mild"
    assert events["bruising"]["outcome"]["coding"][0]["code"] == "resolved"
    assert len(lung["suspectEntity"]) == 2


def test_the_consent_permits_or_denies_each_region_and_carries_the_signed_pdf(bundle, record):
    consents = {c["identifier"][0]["value"]: c for c in resources_of(bundle, "Consent")}
    current = consents[str(record.consent.pk)]
    assert current["status"] == "active"
    regions = {p["code"][0]["coding"][0]["code"]: p for p in current["provision"]["provision"]}
    assert {k: v["type"] for k, v in regions.items()} == {
        "general": "permit",
        "neck": "permit",
        "mid_back": "deny",
    }
    assert current["provision"]["type"] == "permit"
    assert all(len(p["provision"]) >= 1 for p in regions.values())
    text = pdf_text(current["sourceAttachment"])
    assert record.patient.family_name in text
    assert record.consent.form.version in text
    withdrawn = consents[str(record.old_consent.pk)]
    assert withdrawn["status"] == "inactive"
    assert "end" in withdrawn["provision"]["period"]


def test_each_session_is_an_encounter_with_its_visit_summary_pdf(bundle, record):
    encounters = {e["identifier"][0]["value"]: e for e in resources_of(bundle, "Encounter")}
    assert encounters[str(record.signed.pk)]["status"] == "finished"
    assert encounters[str(record.draft.pk)]["status"] == "in-progress"
    documents = {d["identifier"][0]["value"]: d for d in resources_of(bundle, "DocumentReference")}
    signed = documents[str(record.signed.pk)]
    assert signed["docStatus"] == "final"
    text = pdf_text(signed["content"][0]["attachment"])
    assert "Upper trapezius" in text
    assert "DRAFT" not in text
    assert "DRAFT" in pdf_text(documents[str(record.draft.pk)]["content"][0]["attachment"])


def test_a_signed_session_exports_its_stored_visit_summary_with_the_same_hash(bundle, record):
    """The PDF in the record is the one its downloads serve: the stored bytes, whose SHA-256 the download's
    ETag names, so a copy the patient takes away can be checked against the clinic's record."""
    import base64
    import hashlib

    from treatments.models import VisitSummary

    documents = {d["identifier"][0]["value"]: d for d in resources_of(bundle, "DocumentReference")}
    exported = base64.b64decode(documents[str(record.signed.pk)]["content"][0]["attachment"]["data"])
    stored = VisitSummary.objects.get(session=record.signed)
    assert exported == bytes(stored.pdf)
    assert hashlib.sha256(exported).hexdigest() == stored.sha256


def test_the_appointment_is_exported_with_its_participants(bundle, record):
    (appointment,) = resources_of(bundle, "Appointment")
    assert appointment["status"] == "fulfilled"  # signing completed it
    assert len(appointment["participant"]) == 3


def test_ids_are_stable_from_one_export_to_the_next(record):
    first = {e["fullUrl"] for e in patient_bundle(record.patient, pdfs=False)["entry"]}
    assert first == {e["fullUrl"] for e in patient_bundle(record.patient, pdfs=False)["entry"]}


def test_the_record_is_read_in_a_fixed_number_of_queries(record, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        patient_bundle(record.patient, pdfs=False)
