"""What the FHIR export reads: one patient's whole record in a fixed number of queries, and every row of
the clinic streamed type by type for the Bulk Data export. Like reports, this app reads every app's
tables and owns none of them (docs/architecture.md)."""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from accounts.models import User
from appointments.models import Appointment, Location
from consent.models import ConsentRecord, RiskDecision
from treatments.models import NeedlePoint, NeedlingSession, SideEffect

APPOINTMENT_RELATED = ("therapist", "type", "location")
SESSION_RELATED = ("clinician", "appointment", "signed_by")
CONSENT_RELATED = ("form", "explained_by", "withdrawn_by")
POINT_RELATED = ("muscle", "needle_size", "session")


def decisions_in_order():
    return RiskDecision.objects.select_related("risk_item").order_by("risk_item__order", "risk_item_id")


@dataclass
class PatientRecord:
    """Everything the export holds for one patient, read in a fixed number of queries."""

    patient: object
    practitioners: list = field(default_factory=list)
    locations: list = field(default_factory=list)
    appointments: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    points: list = field(default_factory=list)
    side_effects: list = field(default_factory=list)

    def points_of(self, session):
        return [p for p in self.points if p.session_id == session.pk]


def patient_record(patient):
    """The patient's appointments, needling sessions with their points and side effects, consents with
    their decisions, and the clinicians and locations they name: eight queries, whatever their number."""
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related(*APPOINTMENT_RELATED)
        .order_by("start", "id")
    )
    sessions = list(
        NeedlingSession.objects.filter(patient=patient)
        .select_related(*SESSION_RELATED)
        .order_by("started_at", "id")
    )
    consents = list(
        ConsentRecord.objects.filter(patient=patient)
        .select_related(*CONSENT_RELATED)
        .prefetch_related(Prefetch("decisions", queryset=decisions_in_order()))
        .order_by("signed_at", "id")
    )
    points = list(
        NeedlePoint.objects.filter(session__patient=patient)
        .select_related(*POINT_RELATED)
        .order_by("session__started_at", "session_id", "order")
    )
    side_effects = list(
        SideEffect.objects.filter(session__patient=patient)
        .select_related("session")
        .order_by("session__started_at", "recorded_at", "id")
    )
    people = (
        {a.therapist_id for a in appointments}
        | {s.clinician_id for s in sessions}
        | {c.explained_by_id for c in consents}
    )
    practitioners = list(
        User.objects.filter(pk__in=people).select_related("clinician_profile").order_by("full_name", "id")
    )
    locations = list({a.location_id: a.location for a in appointments}.values())
    return PatientRecord(
        patient=patient,
        practitioners=practitioners,
        locations=locations,
        appointments=appointments,
        sessions=sessions,
        consents=consents,
        points=points,
        side_effects=side_effects,
    )


# --- the whole clinic, streamed ------------------------------------------------------------------------
CHUNK = 2000


def all_practitioners():
    """Every member of staff who is a clinician (has a clinician profile) or booked, treated or explained a
    consent: in practice the physiotherapists."""
    return (
        User.objects.filter(clinician_profile__isnull=False)
        .select_related("clinician_profile")
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )


def all_locations():
    return Location.objects.order_by("id").iterator(chunk_size=CHUNK)


def all_appointments():
    return Appointment.objects.select_related(*APPOINTMENT_RELATED).order_by("id").iterator(chunk_size=CHUNK)


def all_sessions():
    return NeedlingSession.objects.select_related(*SESSION_RELATED).order_by("id").iterator(chunk_size=CHUNK)


def all_consents():
    return (
        ConsentRecord.objects.select_related(*CONSENT_RELATED, "patient")
        .prefetch_related(Prefetch("decisions", queryset=decisions_in_order()))
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )


def all_points():
    return NeedlePoint.objects.select_related(*POINT_RELATED).order_by("id").iterator(chunk_size=CHUNK)


def all_side_effects():
    return (
        SideEffect.objects.select_related("session")
        .prefetch_related(Prefetch("session__points", queryset=NeedlePoint.objects.only("id", "session_id")))
        .order_by("id")
        .iterator(chunk_size=CHUNK)
    )
