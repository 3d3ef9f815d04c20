"""The code systems, identifier systems and codes the FHIR export writes (docs/fhir.md says where each
comes from and which edition it was checked against).

IMS Clinic's own definitions (local code systems for what no standard codes, and extensions) live under
DEFINITIONS. Identifiers that are unique only within one clinic (chart numbers, staff, rows) live under
settings.FHIR_IDENTIFIER_BASE, which each clinic sets to a URL it controls.
"""

import uuid

from django.conf import settings

# --- external systems ---------------------------------------------------------------------------------
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# BC Personal Health Number: the NamingSystem of Canada Health Infoway's URI registry that the BC Ministry
# of Health's Client Registry FHIR implementation guide uses for the PHN (bcgov.github.io/MOH-HCIM-FHIR,
# "Identifiers"), with identifier type JHN (jurisdictional health number).
BC_PHN = "https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id"

# --- codes of DOMAIN.md ("Codes for interoperability") ------------------------------------------------------
DRY_NEEDLING = (SNOMED, "231082000", "Dry needle acupuncture")
LATERALITY = {
    "L": (SNOMED, "7771000", "Left"),
    "R": (SNOMED, "24028007", "Right"),
    "B": (SNOMED, "51440002", "Right and left"),
}
PAIN_NRS = (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
PNEUMOTHORAX = [(SNOMED, "36118008", "Pneumothorax"), (ICD10CM, "J95.811", "Postprocedural pneumothorax")]
CONSENT_CATEGORY = (LOINC, "59284-0", "Patient Consent")

# --- IMS Clinic's own definitions ---------------------------------------------------------------------------
# A canonical URL names a definition; it need not resolve (FHIR R4 "Canonical URLs"). The project owns no
# domain yet, so this base is under .example (RFC 2606): it can never be someone else's (docs/fhir.md).
DEFINITIONS = "https://ims-clinic.example/fhir"


def code_system(name):
    return f"{DEFINITIONS}/CodeSystem/{name}"


def extension(name):
    return f"{DEFINITIONS}/StructureDefinition/{name}"


TWITCH = code_system("twitch-response")
TWITCH_OBSERVATION = (code_system("observation"), "local-twitch-response", "Local twitch response (LTR)")
TECHNIQUE = code_system("needling-technique")
PATIENT_RESPONSE = code_system("patient-response")
MUSCLE = code_system("muscle")
BODY_REGION = code_system("body-region")
NEEDLE = code_system("needle-size")
SEGMENT = code_system("spinal-segment")
CONSENT_REGION = code_system("consent-region")
RISK_ITEM = code_system("consent-risk")
SIDE_EFFECT = code_system("side-effect")
WHITE_SEVERITY = code_system("side-effect-severity-white")
ONSET = code_system("side-effect-onset")
QUALIFICATION = code_system("qualification")
DOCUMENT_TYPE = code_system("document-type")
ENCOUNTER_TYPE = code_system("encounter-type")

EXT_LATERALITY = extension("laterality")
EXT_BODY_REGION = extension("body-region")
EXT_SEGMENT = extension("spinal-segment")
EXT_DEPTH = extension("needle-depth")
EXT_DEPTH_CONFIRMED = extension("depth-beyond-advisory-confirmed")
EXT_INSERTIONS = extension("needle-insertions")
EXT_TECHNIQUE = extension("needling-technique")
EXT_PAIN_TIMING = extension("pain-timing")
EXT_ONSET = extension("side-effect-onset")
EXT_DURATION = extension("side-effect-duration")
EXT_ACTION = extension("side-effect-action-taken")
EXT_GENDER_IDENTITY = "http://hl7.org/fhir/StructureDefinition/patient-genderIdentity"


# --- this clinic's identifiers ------------------------------------------------------------------------------
def identifier_system(name):
    """The system of an identifier unique within this clinic: chart numbers, staff, rows of a table."""
    return f"{settings.FHIR_IDENTIFIER_BASE.rstrip('/')}/{name}"


def resource_id(resource_type, pk):
    """A stable id for a row as a resource: the same row exports under the same id every time, and two
    clinics' exports (different FHIR_IDENTIFIER_BASE) never share one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, identifier_system(f"{resource_type}/{pk}")))


def coding(system_code_display):
    """A Coding from (system, code, display), or the Coding itself when given one."""
    if isinstance(system_code_display, dict):
        return system_code_display
    system, code, display = system_code_display
    return {"system": system, "code": code, "display": display}


def concept(*codings, text=None):
    result = {"coding": [coding(c) for c in codings]}
    if text:
        result["text"] = text
    return result
