"""Our rows as FHIR R4 resources: one small function per resource, shared by the patient's Bundle and the
clinic-wide NDJSON (docs/fhir.md is the mapping, field by field).

Each function takes the row (with the related rows its query selected) and `ref`, which makes a reference
to another resource: `urn:uuid:<id>` inside a Bundle, `<Type>/<id>` in Bulk Data files. Resource ids are
stable (codes.resource_id), so a record exported twice carries the same ids and a receiver can update it.
"""

import base64
import hashlib
import re
import uuid

from django.conf import settings
from django.utils import timezone

from . import codes
from .codes import concept, identifier_system, resource_id

SEX_TO_GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}
APPOINTMENT_STATUS = {
    "booked": "booked",
    "confirmed": "booked",
    "arrived": "arrived",
    "in_treatment": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
# White's scale (DOMAIN.md) against HL7's AdverseEvent severity and seriousness.
SEVERITY = {"mild": "mild", "significant": "moderate", "serious": "severe"}
PAIN_TIMING = {"before": "Pain (NRS 0-10) before needling", "after": "Pain (NRS 0-10) after needling"}


# --- small pieces -------------------------------------------------------------------------------------------
def instant(moment):
    """An aware datetime as FHIR writes it (ISO 8601 with offset, clinic time)."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def local(system, code, display):
    return {"system": system, "code": str(code), "display": str(display)}


def identifier(name, value, **extra):
    return {"system": identifier_system(name), "value": str(value), **extra}


def attachment(title, pdf=None, url=None, created=None):
    """A PDF attachment: its bytes inline (with size and SHA-1, as R4 asks), or a URL to fetch it from."""
    result = {"contentType": "application/pdf", "title": title}
    if pdf is not None:
        result["data"] = base64.b64encode(pdf).decode()
        result["size"] = len(pdf)
        result["hash"] = base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode()
    if url is not None:
        result["url"] = url
    if created is not None:
        result["creation"] = instant(created)
    return result


def base(resource_type, pk, *identifiers):
    return {
        "resourceType": resource_type,
        "id": resource_id(resource_type, pk),
        "identifier": list(identifiers),
    }


def bundle_ref(resource_type, pk):
    return {"reference": f"urn:uuid:{resource_id(resource_type, pk)}"}


def relative_ref(resource_type, pk):
    return {"reference": f"{resource_type}/{resource_id(resource_type, pk)}"}


# --- people and places --------------------------------------------------------------------------------------
def patient_resource(patient, ref):
    resource = base(
        "Patient",
        patient.pk,
        identifier(
            "chart-number",
            patient.chart_number,
            use="usual",
            type=concept((codes.V2_IDENTIFIER_TYPE, "MR", "Medical record number")),
        ),
    )
    if patient.phn:
        resource["identifier"].append(
            {
                "use": "official",
                "type": concept(
                    (codes.V2_IDENTIFIER_TYPE, "JHN", "Jurisdictional health number (Canada)"),
                    text="BC Personal Health Number",
                ),
                "system": codes.BC_PHN,
                "value": patient.phn,
            }
        )
    names = [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.family_name, "given": [patient.preferred_name]})
    telecom = [
        {"system": "phone", "value": str(number), "use": "mobile" if rank == 0 else "home", "rank": rank + 1}
        for rank, number in enumerate(n for n in (patient.phone, patient.phone_alternate) if n)
    ]
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource.update(
        {
            "active": patient.archived_at is None,
            "name": names,
            "gender": SEX_TO_GENDER.get(patient.sex, "unknown"),
            "birthDate": patient.date_of_birth.isoformat(),
        }
    )
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.gender:
        resource["extension"] = [
            {"url": codes.EXT_GENDER_IDENTITY, "valueCodeableConcept": {"text": patient.gender}}
        ]
    if patient.emergency_contact_name or patient.emergency_contact_phone:
        contact = {"relationship": [{"text": patient.emergency_contact_relationship or "Emergency contact"}]}
        if patient.emergency_contact_name:
            contact["name"] = {"text": patient.emergency_contact_name}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": str(patient.emergency_contact_phone)}]
        resource["contact"] = [contact]
    return resource


def practitioner_resource(user, ref):
    """A clinician, with their registration and needling authorisation as qualifications."""
    resource = base("Practitioner", user.pk, identifier("staff", user.pk))
    resource.update(
        {
            "active": user.is_active,
            "name": [{"text": user.full_name}],
            "telecom": [{"system": "email", "value": user.email, "use": "work"}],
        }
    )
    profile = getattr(user, "clinician_profile", None)
    if profile is not None:
        issuer = {"display": profile.regulator}
        qualifications = [
            {
                "identifier": [identifier("registration-number", profile.registration_number)],
                "code": concept(
                    local(codes.QUALIFICATION, "registered-physiotherapist", "Registered physiotherapist"),
                    text=f"Registered physiotherapist, {profile.regulator}",
                ),
                "issuer": issuer,
            }
        ]
        if profile.needling_authorised_on:
            period = {"start": profile.needling_authorised_on.isoformat()}
            if profile.needling_authorisation_expires:
                period["end"] = profile.needling_authorisation_expires.isoformat()
            qualifications.append(
                {
                    "code": concept(
                        local(
                            codes.QUALIFICATION, "dry-needling", "Authorised to perform dry needling / IMS"
                        ),
                        text="Dry needling / IMS authorisation (regulator's roster)",
                    ),
                    "period": period,
                    "issuer": issuer,
                }
            )
        resource["qualification"] = qualifications
    return resource


def location_resource(location, ref):
    resource = base("Location", location.pk, identifier("location", location.pk))
    resource.update({"status": "active", "name": location.name})
    if location.address:
        resource["address"] = {"text": location.address}
    return resource


# --- the booking --------------------------------------------------------------------------------------------
def appointment_resource(appointment, ref):
    resource = base("Appointment", appointment.pk, identifier("appointment", appointment.pk))
    resource.update(
        {
            "status": APPOINTMENT_STATUS[appointment.status],
            "serviceType": [{"text": appointment.type.name}],
            "start": instant(appointment.start),
            "end": instant(appointment.end),
            "minutesDuration": appointment.minutes,
            "created": instant(appointment.created_at),
            "participant": [
                {
                    "actor": ref("Patient", appointment.patient_id),
                    "required": "required",
                    "status": "accepted",
                },
                {
                    "actor": ref("Practitioner", appointment.therapist_id),
                    "required": "required",
                    "status": "accepted",
                },
                {"actor": ref("Location", appointment.location_id), "status": "accepted"},
            ],
        }
    )
    if appointment.cancel_reason:
        resource["cancelationReason"] = {"text": appointment.cancel_reason}
    if appointment.notes:
        resource["comment"] = appointment.notes
    return resource


# --- the needling session -----------------------------------------------------------------------------------
def encounter_resource(session, ref):
    resource = base("Encounter", session.pk, identifier("needling-session", session.pk))
    period = {"start": instant(session.started_at)}
    if session.appointment_id and session.appointment.end > session.started_at:
        period["end"] = instant(session.appointment.end)
    resource.update(
        {
            "status": "finished" if session.is_signed else "in-progress",
            "class": {"system": codes.V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
            "type": [
                concept(
                    local(codes.ENCOUNTER_TYPE, "ims-dry-needling", "IMS / dry needling session"),
                    text="IMS / dry needling session",
                )
            ],
            "subject": ref("Patient", session.patient_id),
            "participant": [
                {
                    "type": [concept((codes.V3_PARTICIPATION, "PPRF", "primary performer"))],
                    "individual": ref("Practitioner", session.clinician_id),
                }
            ],
            "period": period,
        }
    )
    if session.appointment_id:
        resource["appointment"] = [ref("Appointment", session.appointment_id)]
    if session.presenting_complaint:
        resource["reasonCode"] = [{"text": session.presenting_complaint}]
    return resource


def body_site(point):
    """The muscle as the body site, its side as a SNOMED CT laterality qualifier (an extension: R4's
    CodeableConcept has no place for a qualifier)."""
    side = point.get_side_display().lower()
    return {
        "extension": [
            {"url": codes.EXT_LATERALITY, "valueCodeableConcept": concept(codes.LATERALITY[point.side])}
        ],
        "coding": [local(codes.MUSCLE, slug(point.muscle.name), point.muscle.name)],
        "text": f"{point.muscle.name}, {side}",
    }


def procedure_status(point):
    """Every recorded point was needled. (Issue 11's "removed in error" points are to be
    "entered-in-error".)"""
    return "completed"


def procedure_resource(point, ref):
    """One needle point: dry needling at a muscle and side, with the needle, depth, insertions, technique
    and the patient's response."""
    session = point.session
    resource = base("Procedure", point.pk, identifier("needle-point", point.pk))
    size = point.needle_size
    extensions = [
        {
            "url": codes.EXT_DEPTH,
            "valueQuantity": {
                "value": float(point.depth_mm),
                "unit": "mm",
                "system": codes.UCUM,
                "code": "mm",
            },
        },
        {"url": codes.EXT_INSERTIONS, "valueInteger": point.insertions},
        {
            "url": codes.EXT_TECHNIQUE,
            "valueCoding": local(codes.TECHNIQUE, point.technique, point.get_technique_display()),
        },
        {
            "url": codes.EXT_BODY_REGION,
            "valueCoding": local(
                codes.BODY_REGION, point.muscle.body_region, point.muscle.get_body_region_display()
            ),
        },
    ]
    if point.segment:
        extensions.append(
            {"url": codes.EXT_SEGMENT, "valueCoding": local(codes.SEGMENT, point.segment, point.segment)}
        )
    if point.depth_confirmed:
        extensions.append({"url": codes.EXT_DEPTH_CONFIRMED, "valueBoolean": True})
    resource.update(
        {
            "extension": extensions,
            "status": procedure_status(point),
            "code": concept(codes.DRY_NEEDLING, text="IMS / dry needling"),
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "performedDateTime": instant(session.started_at),
            "performer": [{"actor": ref("Practitioner", session.clinician_id)}],
            "bodySite": [body_site(point)],
            "outcome": concept(
                local(codes.PATIENT_RESPONSE, point.patient_response, point.get_patient_response_display()),
                text=f"Patient response: {point.get_patient_response_display()}",
            ),
            "usedCode": [
                concept(
                    local(codes.NEEDLE, f"{size.gauge_mm:.2f}x{size.length_mm}", str(size)),
                    text=f"Solid filiform needle {size}",
                )
            ],
            "note": [
                {
                    "text": f"Point {point.order}: depth {point.depth_mm.normalize():f} mm, "
                    f"{point.insertions} insertion(s), {point.get_technique_display()}."
                    + (f" {point.notes}" if point.notes else "")
                }
            ],
        }
    )
    return resource


def twitch_observation(point, ref):
    """The point's local twitch response (none, single, multiple): no standard code exists, so a local one."""
    session = point.session
    resource = base("Observation", f"twitch-{point.pk}", identifier("twitch-response", point.pk))
    resource.update(
        {
            "status": "final" if session.signed_at else "preliminary",
            "category": [concept((codes.OBSERVATION_CATEGORY, "exam", "Exam"))],
            "code": concept(codes.TWITCH_OBSERVATION, text="Local twitch response (LTR)"),
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "partOf": [ref("Procedure", point.pk)],
            "effectiveDateTime": instant(session.started_at),
            "performer": [ref("Practitioner", session.clinician_id)],
            "valueCodeableConcept": concept(
                local(codes.TWITCH, point.twitch_response, point.get_twitch_response_display())
            ),
            "bodySite": body_site(point),
        }
    )
    return resource


def pain_observations(session, ref):
    """Pain before and after needling (NRS 0 to 10, LOINC 72514-3), as recorded."""
    found = []
    for timing, value in (("before", session.pain_before), ("after", session.pain_after)):
        if value is None:
            continue
        resource = base(
            "Observation", f"pain-{timing}-{session.pk}", identifier(f"pain-{timing}", session.pk)
        )
        resource.update(
            {
                "extension": [{"url": codes.EXT_PAIN_TIMING, "valueCode": timing}],
                "status": "final" if session.signed_at else "preliminary",
                "category": [concept((codes.OBSERVATION_CATEGORY, "survey", "Survey"))],
                "code": concept(codes.PAIN_NRS, text=PAIN_TIMING[timing]),
                "subject": ref("Patient", session.patient_id),
                "encounter": ref("Encounter", session.pk),
                "effectiveDateTime": instant(session.started_at),
                "performer": [ref("Practitioner", session.clinician_id)],
                "valueInteger": value,
            }
        )
        found.append(resource)
    return found


def adverse_event_resource(effect, point_ids, ref):
    """A side effect, with White's severity (mild, significant, serious) as HL7's severity and seriousness;
    the session's needle points are the suspected cause."""
    session = effect.session
    resource = base("AdverseEvent", effect.pk)
    resource["identifier"] = identifier("side-effect", effect.pk)  # 0..1 in R4
    event_codings = [local(codes.SIDE_EFFECT, effect.type, effect.get_type_display())]
    if effect.type == "pneumothorax":
        event_codings += [codes.coding(c) for c in codes.PNEUMOTHORAX]
    extensions = [
        {"url": codes.EXT_ONSET, "valueCoding": local(codes.ONSET, effect.onset, effect.get_onset_display())}
    ]
    if effect.duration:
        extensions.append({"url": codes.EXT_DURATION, "valueString": effect.duration})
    if effect.action_taken:
        extensions.append({"url": codes.EXT_ACTION, "valueString": effect.action_taken})
    serious = effect.severity == "serious"
    resource.update(
        {
            "extension": extensions,
            "actuality": "actual",
            "event": {"coding": event_codings, "text": effect.description or effect.get_type_display()},
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "date": instant(effect.recorded_at),
            "recordedDate": instant(effect.recorded_at),
            "recorder": ref("Practitioner", session.clinician_id),
            "seriousness": concept(
                (codes.AE_SERIOUSNESS, "Serious", "Serious")
                if serious
                else (codes.AE_SERIOUSNESS, "Non-serious", "Non-serious")
            ),
            "severity": concept(
                (codes.AE_SEVERITY, SEVERITY[effect.severity], SEVERITY[effect.severity].capitalize()),
                (codes.WHITE_SEVERITY, effect.severity, effect.severity_word),
            ),
            "outcome": concept(
                (codes.AE_OUTCOME, "resolved", "Resolved")
                if effect.resolved
                else (codes.AE_OUTCOME, "ongoing", "Ongoing")
            ),
        }
    )
    if point_ids:
        resource["suspectEntity"] = [{"instance": ref("Procedure", pk)} for pk in point_ids]
    return resource


def document_reference_resource(session, ref, *, pdf=None, url=None):
    """The visit summary PDF (DRAFT on every page until the session is signed)."""
    resource = base("DocumentReference", session.pk, identifier("visit-summary", session.pk))
    resource.update(
        {
            "status": "current",
            "docStatus": "final" if session.is_signed else "preliminary",
            "type": concept(
                local(codes.DOCUMENT_TYPE, "visit-summary", "IMS / dry needling visit summary"),
                text="IMS / dry needling visit summary",
            ),
            "subject": ref("Patient", session.patient_id),
            "date": instant(timezone.now()),
            "author": [ref("Practitioner", session.clinician_id)],
            "description": "Visit summary of the needling session of "
            f"{timezone.localtime(session.started_at):%Y-%m-%d}",
            "content": [
                {"attachment": attachment("Visit summary", pdf=pdf, url=url, created=timezone.now())}
            ],
            "context": {
                "encounter": [ref("Encounter", session.pk)],
                "period": {"start": instant(session.started_at)},
            },
        }
    )
    if session.signed_by_id:
        resource["authenticator"] = ref("Practitioner", session.signed_by_id)
    return resource


# --- consent ------------------------------------------------------------------------------------------------
def region_provisions(decisions):
    """One provision per consent region (general, neck, mid back): permit when every risk of the region was
    accepted, deny otherwise; inside it, one provision per decision (each risk accepted or declined)."""
    regions = {}
    for decision in decisions:
        regions.setdefault(decision.risk_item.region, []).append(decision)
    provisions = []
    for region, found in regions.items():
        label = found[0].risk_item.get_region_display()
        region_coding = local(codes.CONSENT_REGION, region, label)
        provisions.append(
            {
                "type": "permit" if all(d.accepted for d in found) else "deny",
                "code": [{"coding": [region_coding], "text": label}],
                "provision": [
                    {
                        "type": "permit" if d.accepted else "deny",
                        "code": [
                            {
                                "coding": [
                                    region_coding,
                                    local(codes.RISK_ITEM, d.risk_item_id, d.risk_item.title),
                                ],
                                "text": f"{d.risk_item.title}: {'accepted' if d.accepted else 'declined'}",
                            }
                        ],
                    }
                    for d in found
                ],
            }
        )
    return provisions


def consent_resource(consent, ref, *, pdf=None, url=None):
    """A signed consent: the version signed, and a provision permitting or denying needling in each region
    and each risk, the signed PDF as its source. Withdrawn: inactive, its period ended then."""
    decisions = list(consent.decisions.all())
    provisions = region_provisions(decisions)
    general = next((p for p in provisions if p["code"][0]["coding"][0]["code"] == "general"), None)
    period = {"start": instant(consent.signed_at)}
    if consent.withdrawn_at:
        period["end"] = instant(consent.withdrawn_at)
    signer = (
        ref("Patient", consent.patient_id)
        if consent.signer_relationship == "patient"
        else {"display": f"{consent.signer_name} ({consent.get_signer_relationship_display().lower()})"}
    )
    resource = base("Consent", consent.pk, identifier("consent", consent.pk))
    extensions = [
        {
            "url": codes.extension("consent-explained-by"),
            "valueReference": ref("Practitioner", consent.explained_by_id),
        }
    ]
    if consent.withdrawn_at:
        extensions.append(
            {"url": codes.extension("consent-withdrawal-reason"), "valueString": consent.withdrawal_reason}
        )
    resource.update(
        {
            "extension": extensions,
            "status": "inactive" if consent.withdrawn_at else "active",
            "scope": concept((codes.CONSENT_SCOPE, "treatment", "Treatment")),
            "category": [concept(codes.CONSENT_CATEGORY)],
            "patient": ref("Patient", consent.patient_id),
            "dateTime": instant(consent.signed_at),
            "performer": [signer],
            "organization": [{"display": settings.CLINIC_NAME}],
            "sourceAttachment": attachment(
                f"Consent to IMS / dry needling, version {consent.form.version}",
                pdf=pdf,
                url=url,
                created=consent.signed_at,
            ),
            "policy": [{"uri": identifier_system(f"consent-form/{slug(consent.form.version)}")}],
            "provision": {
                "type": general["type"] if general else "deny",
                "period": period,
                "code": [concept(codes.DRY_NEEDLING)],
                "provision": provisions,
            },
        }
    )
    return resource


# --- the patient's record as one Bundle ---------------------------------------------------------------------
def record_resources(record, *, consent_pdf, visit_summary_pdf):
    """Every resource of a PatientRecord (interop.records), patient first, with Bundle references.
    consent_pdf(consent) and visit_summary_pdf(session) give the PDFs to embed."""
    ref = bundle_ref
    yield patient_resource(record.patient, ref)
    for user in record.practitioners:
        yield practitioner_resource(user, ref)
    for location in record.locations:
        yield location_resource(location, ref)
    for appointment in record.appointments:
        yield appointment_resource(appointment, ref)
    for consent in record.consents:
        yield consent_resource(consent, ref, pdf=consent_pdf(consent))
    for session in record.sessions:
        yield encounter_resource(session, ref)
        yield from pain_observations(session, ref)
        for point in record.points_of(session):
            yield procedure_resource(point, ref)
            yield twitch_observation(point, ref)
        points = [p.pk for p in record.points_of(session)]
        for effect in (e for e in record.side_effects if e.session_id == session.pk):
            yield adverse_event_resource(effect, points, ref)
        yield document_reference_resource(session, ref, pdf=visit_summary_pdf(session))


def bundle(resources, at=None):
    """A Bundle of type collection: every entry's fullUrl is the urn:uuid its references use."""
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": instant(at or timezone.now()),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
