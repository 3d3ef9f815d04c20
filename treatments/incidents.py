"""Critical events followed up (Physiotherapy Alberta asks every clinic for a critical event management
plan): the incident a significant or serious side effect opens, the alert to its clinician and the
manager, the follow-up (actions taken, contact with the patient) and the closing. The database opens the
incident and keeps it (migration 0010); these services alert, record and close, each audited inside its
own transaction."""

import logging
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.access import Refused
from accounts.models import Role, User
from audit.models import Action
from audit.services import audited_transaction, record
from outbox.services import queue_email

from .models import Incident, IncidentEntry, IncidentEntryKind, IncidentStatus

log = logging.getLogger(__name__)


class IncidentIntent(StrEnum):
    READ = "read"
    RECORD = "record"  # an action taken, a follow-up contact, a note
    CLOSE = "close"


def check_incident_access(incident, user, intent, *, request=None):
    """Refuse (Refused: 403, audited here) what `user` may not do with `incident`. Physiotherapists, the
    manager and the administrator read it; the follow-up (actions, contact with the patient, notes) is
    recorded by any physiotherapist (the treating one, or a colleague who called the patient) or the
    manager; it is closed by the treating clinician or the manager, who answer for the follow-up. The
    front desk does none of it. With chart privacy on, a physiotherapist outside the patient's care team
    breaks the glass first (patients.privacy.may_open_chart), as for any page of the chart."""
    from patients.privacy import may_open_chart

    if intent == IncidentIntent.READ:
        allowed = user.has_role(Role.PHYSIO, Role.MANAGER, Role.ADMIN)
    elif intent == IncidentIntent.RECORD:
        allowed = user.has_role(Role.PHYSIO, Role.MANAGER)
    else:
        allowed = user.has_role(Role.MANAGER) or (
            user.has_role(Role.PHYSIO) and user.pk == incident.clinician_id
        )
    reason = None
    if not allowed:
        reason = {
            IncidentIntent.READ: "Incidents are for clinicians and the manager.",
            IncidentIntent.RECORD: "The follow-up is recorded by a physiotherapist or the manager.",
            IncidentIntent.CLOSE: "An incident is closed by its treating clinician or the manager.",
        }[IncidentIntent(intent)]
    elif not may_open_chart(user, incident.patient_id):
        reason = (
            "This patient is not on your care team (chart privacy): break the glass from the patient's "
            "chart, saying why, to open it."
        )
    if reason is not None:
        record(
            Action.PERMISSION_DENIED,
            request=request,
            user=user,
            obj=incident,
            patient_id=incident.patient_id,
            detail=f"refused: {intent} incident {incident.pk}: {reason}",
        )
        message = f"You may not {intent} incident {incident.pk}. {reason}"
        raise Refused(message, patient_id=incident.patient_id, audited=True)


def opened_for(effect, *, by, request=None):
    """The incident the database opened for a side effect just recorded (None for a mild one): audited
    with the side effect, and its alert sent once the transaction commits."""
    incident = Incident.objects.filter(side_effect=effect).first()
    if incident is None:
        return None
    record(
        Action.CREATE,
        request=request,
        user=by,
        obj=incident,
        patient_id=incident.patient_id,
        detail=f"incident opened: {effect.get_type_display()} ({effect.severity_word.lower()})",
    )
    pk = incident.pk
    transaction.on_commit(lambda: send_alert(pk))
    return incident


def managers():
    return list(User.objects.filter(role=Role.MANAGER, is_active=True).exclude(email=""))


def send_alert(incident_id):
    """E-mail the incident to its clinician and every manager, once: queued in the outbox (which sends it,
    retrying while the mail server refuses it) in the same transaction as alerted_at records it; the home
    page banners show it to them whether or not mail gets through. The e-mail carries the chart number, not
    the patient's name: e-mail leaves the clinic's systems."""
    incident = Incident.objects.select_related(
        "side_effect", "follow_up", "session", "patient", "clinician"
    ).get(pk=incident_id)
    if incident.alerted_at is not None:
        return False
    recipients = sorted({u.email for u in managers() + [incident.clinician] if u.email})
    effect = incident.side_effect
    where = reverse("treatments:incident", args=[incident.pk])
    session_line = (
        f"Session: {timezone.localtime(incident.session.started_at):%Y-%m-%d %H:%M}, {incident.clinician}\n"
    )
    if effect is None:  # a warning sign the patient reported in the follow-up (treatments/followup.py)
        subject = (
            f"[{settings.CLINIC_NAME}] Incident: warning sign reported at follow-up, "
            f"chart {incident.patient.chart_number}"
        )
        intro = (
            "The patient reported a warning sign in the follow-up after needling, was told to seek care at "
            "once, and an incident was opened for follow-up. Call the patient now.\n\n"
        )
        what = f"Reported by the patient: {', '.join(incident.follow_up.warning_signs)}\n\n"
    else:
        subject = (
            f"[{settings.CLINIC_NAME}] Incident: {effect.severity_word.lower()} side effect, "
            f"chart {incident.patient.chart_number}"
        )
        intro = (
            f"A {effect.severity_word.lower()} side effect was recorded and an incident opened for "
            "follow-up.\n\n"
        )
        what = (
            f"Side effect: {effect.get_type_display()} ({effect.severity_word.lower()})\n"
            f"Action taken: {effect.action_taken or 'not recorded yet'}\n\n"
        )
    body = (
        intro
        + f"Chart: {incident.patient.chart_number}\n"
        + session_line
        + what
        + "Record the actions taken and the follow-up contact with the patient, then close it: in "
        f"{settings.CLINIC_NAME}, open the incident from your home page ({where}).\n"
    )
    with audited_transaction():
        if not Incident.objects.filter(pk=incident.pk, alerted_at__isnull=True).update(
            alerted_at=timezone.now()
        ):
            return False  # alerted meanwhile, by another request
        if recipients:
            queue_email(
                key=f"treatments.incident-alert:{incident.pk}",
                message=EmailMessage(subject, body, None, recipients),
                patient_id=incident.patient_id,
            )
        record(
            Action.SEND,
            obj=incident,
            patient_id=incident.patient_id,
            detail=f"incident alert queued for {len(recipients)} recipient(s)",
        )
    return True


def record_entry(incident, *, by, kind, text, contact_method="", happened_at=None, request=None):
    """Record an action taken, a follow-up contact with the patient (saying how) or a note on an open
    incident. Refuses (403) the front desk and the administrator; refuses a closed incident, empty text,
    and a follow-up without how the patient was contacted."""
    check_incident_access(incident, by, IncidentIntent.RECORD, request=request)
    text = (text or "").strip()
    errors = {}
    if kind not in IncidentEntryKind.values:
        errors["kind"] = "Choose what this entry records."
    if not text:
        errors["text"] = "Write what was done or said."
    if kind == IncidentEntryKind.FOLLOW_UP and not contact_method:
        errors["contact_method"] = "Say how the patient was contacted."
    if errors:
        raise ValidationError(errors)
    with audited_transaction():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status != IncidentStatus.OPEN:
            raise ValidationError("This incident is closed; nothing more is added to it.")
        entry = IncidentEntry.objects.create(
            incident=locked,
            kind=kind,
            contact_method=contact_method if kind == IncidentEntryKind.FOLLOW_UP else "",
            text=text,
            happened_at=happened_at or timezone.now(),
            recorded_by=by,
        )
        record(
            Action.UPDATE,
            request=request,
            user=by,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"incident {locked.pk}: {entry.get_kind_display().lower()} recorded",
        )
    return entry


def close_incident(incident, *, by, note, request=None):
    """Close an incident, saying why (the outcome), as its treating clinician or the manager. Refuses
    (403) anyone else; refuses one already closed, an empty note, and one with no follow-up contact with
    the patient on record (the database refuses that too)."""
    check_incident_access(incident, by, IncidentIntent.CLOSE, request=request)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say how the incident ended (the patient's outcome)."})
    with audited_transaction():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.status != IncidentStatus.OPEN:
            raise ValidationError(
                f"This incident was already closed on {timezone.localtime(locked.closed_at):%Y-%m-%d}."
            )
        if not locked.entries.filter(kind=IncidentEntryKind.FOLLOW_UP).exists():
            raise ValidationError(
                "Record the follow-up contact with the patient before closing the incident.",
                code="no_follow_up",
            )
        Incident.objects.filter(pk=locked.pk).update(
            status=IncidentStatus.CLOSED, closed_at=timezone.now(), closed_by=by, closing_note=note
        )
        record(
            Action.UPDATE,
            request=request,
            user=by,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"incident {locked.pk} closed",
        )
    locked.refresh_from_db()
    return locked


# Whether any incident is open (for one clinician, or for anyone when the clinician is NULL): on most views
# none is, and this answers it from incident_status_idx without Django compiling the banner's joined query.
ANY_OPEN_INCIDENT = f"""
    SELECT EXISTS (
        SELECT 1 FROM {Incident._meta.db_table}
        WHERE status = %s AND (%s::bigint IS NULL OR clinician_id = %s::bigint)
    )
"""  # noqa: S608 - the table name from _meta; every value a parameter


# What the banner (treatments/_incident_banner.html) shows of each open incident, no more: what opened it
# (Incident.what: the side effect's type, or the warning signs of the follow-up), its severity, the chart
# number, the clinician and when. The whole rows of the four tables it joined cost a third of the read.
BANNER_FIELDS = (
    "id", "side_effect_id", "follow_up_id", "session_id", "patient_id", "clinician_id", "severity",
    "opened_at", "status", "side_effect__id", "side_effect__type", "follow_up__id",
    "follow_up__short_of_breath", "follow_up__chest_pain", "follow_up__pain_breathing_in", "patient__id",
    "patient__chart_number", "clinician__id", "clinician__full_name", "clinician__email",
)  # fmt: skip


def open_incidents_for(user):
    """The open incidents the user is alerted to: their own (a physiotherapist's sessions), or every one
    (the manager); empty for anyone else. One query when none is open (the usual case: a fixed EXISTS,
    raw SQL because the banner asks it on every home page and My day); two when some are, the second
    reading them with what the banner shows (BANNER_FIELDS)."""
    if user.has_role(Role.MANAGER):
        clinician_id = None
    elif user.has_role(Role.PHYSIO):
        clinician_id = user.pk
    else:
        return []
    with connection.cursor() as cursor:
        cursor.execute(ANY_OPEN_INCIDENT, [IncidentStatus.OPEN, clinician_id, clinician_id])
        (any_open,) = cursor.fetchone()
    if not any_open:
        return []
    found = (
        Incident.objects.filter(status=IncidentStatus.OPEN)
        # follow_up: what opened an incident reported at the follow-up (Incident.what).
        .select_related("side_effect", "follow_up", "patient", "clinician")
        .only(*BANNER_FIELDS)
    )
    if clinician_id is not None:
        found = found.filter(clinician_id=clinician_id)
    return list(found)
