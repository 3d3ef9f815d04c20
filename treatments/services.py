"""Rules of a needling session that span models: who may start and sign, the consent gate for every
point (the general risks; the neck and mid back regions too), depths, optimistic concurrency of drafts,
signing with a content hash, and addenda. Every write is audited. Forms, the admin (through model
clean()) and imports all call these."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from audit.models import Action
from audit.services import record

from .models import NeedlePoint, NeedlingSession, RiskRegion, SideEffect


class ConflictError(ValidationError):
    """Raised when a draft was saved by someone else since it was opened: nothing is overwritten."""


class SessionSigned(ValidationError):
    """Raised on any attempt to change a signed session, its points or side effects."""

    def __init__(self, message="This session is signed and read-only; write an addendum to correct it."):
        super().__init__(message, code="signed")


# Fields of the assessment / after-treatment form that save_draft may change.
DRAFT_FIELDS = [
    "presenting_complaint",
    "history",
    "pain_before",
    "rom_findings",
    "screening_reviewed",
    "impression",
    "plan",
    "pain_after",
    "movement_change",
    "immediate_response",
    "aftercare_heat_hydration",
    "aftercare_warning_signs",
    "aftercare_notes",
    "needles_in",
    "needles_out",
    "sharps_disposed",
]
POINT_FIELDS = [
    "muscle",
    "side",
    "segment",
    "needle_size",
    "depth_mm",
    "insertions",
    "technique",
    "twitch_response",
    "patient_response",
    "depth_confirmed",
    "notes",
]
SIDE_EFFECT_FIELDS = ["type", "severity", "onset", "duration", "action_taken", "resolved", "description"]


def _audit(action, session, *, by, request, detail):
    """One audit event on a session, filed under its patient."""
    record(action, request=request, user=by, obj=session, patient_id=session.patient_id, detail=detail)


def _authorised(clinician, on):
    profile = getattr(clinician, "clinician_profile", None)
    day = timezone.localdate(on) if on is not None and timezone.is_aware(on) else (on or timezone.localdate())
    return profile is not None and clinician.role == "physiotherapist" and profile.needling_authorised(day)


def check_can_start(clinician, patient=None, on=None):
    """Refuses a clinician without a current needling authorisation on file, and an archived patient."""
    if not _authorised(clinician, on):
        raise ValidationError(
            f"{clinician} has no current needling authorisation on file: only clinicians on the needling "
            "roster may start or sign a needling session.",
            code="not_authorised",
        )
    if patient is not None and patient.archived_at is not None:
        raise ValidationError("This patient is archived: restore the patient before starting a session.")


def start_session(*, patient, clinician, appointment=None, request=None):
    """Create a draft session for the patient by the clinician (optionally for an appointment).

    Refuses an unauthorised clinician and an archived patient. Consent is not needed to start (the
    assessment comes first; consent may be obtained during the visit): it is needed for every point."""
    check_can_start(clinician, patient)
    session = NeedlingSession(patient=patient, clinician=clinician, updated_by=clinician)
    if appointment is not None:
        session.appointment = appointment
    session.save()
    _audit(
        Action.CREATE,
        session,
        by=clinician,
        request=request,
        detail="needling session started" + (f" for appointment {appointment.pk}" if appointment else ""),
    )
    return session


def start_session_from_appointment(appointment, *, by, request=None):
    """Start (or reopen) the session linked to an appointment and mark the appointment in treatment.

    Refuses an unauthorised clinician; returns the existing session when one is already linked."""
    from appointments.services import mark_in_treatment

    with transaction.atomic():
        existing = NeedlingSession.objects.filter(appointment=appointment).first()
        if existing is not None:
            return existing
        session = start_session(
            patient=appointment.patient, clinician=by, appointment=appointment, request=request
        )
        mark_in_treatment(appointment, by=by)
    return session


def _locked(session):
    """The session row, locked for this transaction, refusing a signed one."""
    current = NeedlingSession.objects.select_for_update().get(pk=session.pk)
    if current.signed_at is not None:
        raise SessionSigned()
    return current


def check_point(point):
    """The rules of one needle point: the session is a draft; the depth is positive, within the needle's
    length, and confirmed past the muscle's advisory maximum; the consent service allows needling now (the
    general risks accepted, for every point) and the muscle's risk region (neck, mid back) when it has
    one. Raises ValidationError (NeedlingNotAllowed for consent)."""
    from consent.models import Region
    from consent.services import check_region_allowed

    session = point.session
    if session.signed_at is not None:
        raise SessionSigned()
    errors = {}
    depth = Decimal(point.depth_mm)
    if depth <= 0:
        errors["depth_mm"] = "The depth must be more than 0 mm."
    elif depth > point.needle_size.length_mm:
        errors["depth_mm"] = (
            f"A depth of {depth.normalize():f} mm is beyond the needle's length ({point.needle_size}): "
            "choose a longer needle or a shallower depth."
        )
    elif (
        point.muscle.advisory_max_depth_mm is not None
        and depth > point.muscle.advisory_max_depth_mm
        and not point.depth_confirmed
    ):
        errors["depth_confirmed"] = (
            f"{depth.normalize():f} mm is beyond the advisory maximum of "
            f"{point.muscle.advisory_max_depth_mm.normalize():f} mm for {point.muscle}: tick "
            "\u201cdepth confirmed\u201d to needle this deep."
        )
    if point.insertions is not None and point.insertions < 1:
        errors["insertions"] = "A point needs at least one insertion."
    if errors:
        raise ValidationError(errors)
    # Every point needs the general risks of needling accepted; a neck or mid back muscle its region's too
    # (check_region_allowed checks the general risks for every region: one query).
    risk_region = point.muscle.risk_region
    check_region_allowed(
        session.patient, Region.GENERAL if risk_region == RiskRegion.NONE else Region(risk_region)
    )


def last_needle_size(clinician):
    """The needle size the clinician used last, the default for the next point (or None)."""
    last = (
        NeedlePoint.objects.filter(session__clinician=clinician)
        .order_by("-session__started_at", "-order")
        .select_related("needle_size")
        .first()
    )
    return last.needle_size if last else None


def _validated(instance, exclude=()):
    """Field checks, then the model's rules; domain errors (NeedlingNotAllowed) reach the caller as raised."""
    instance.clean_fields(exclude=list(exclude))
    instance.clean()


def add_point(session, *, by, request=None, **fields):
    """Add the next needle point to a draft session.

    Refuses a signed session, a bad depth or insertion count, a segment that does not exist, an
    unconfirmed depth past the advisory maximum, any point without the general risks accepted on a
    current consent, and a neck / mid back point without that region's consent."""
    with transaction.atomic():
        locked = _locked(session)
        point = NeedlePoint(session=locked, order=0, **fields)
        _validated(point, exclude=["order", "session"])
        point.order = (locked.points.aggregate(m=Max("order"))["m"] or 0) + 1
        point.save()
    _audit(
        Action.UPDATE,
        session,
        by=by,
        request=request,
        detail=f"needle point {point.order} added ({point.muscle}, {point.side})",
    )
    return point


def update_point(point, *, by, request=None, **fields):
    """Change a needle point of a draft session; the same rules as add_point."""
    with transaction.atomic():
        locked = _locked(point.session)
        point = NeedlePoint.objects.get(pk=point.pk)
        point.session = locked
        for name, value in fields.items():
            setattr(point, name, value)
        _validated(point, exclude=["session"])
        point.save()
    _audit(
        Action.UPDATE,
        locked,
        by=by,
        request=request,
        detail=f"needle point {point.order} changed: {', '.join(sorted(fields))}",
    )
    return point


def add_side_effect(session, *, by, request=None, **fields):
    """Record a side effect on a draft session. Refuses a missing type or severity, an undescribed
    "other", and a signed session (add an addendum instead)."""
    with transaction.atomic():
        locked = _locked(session)
        effect = SideEffect(session=locked, **fields)
        _validated(effect, exclude=["session"])
        effect.save()
    _audit(
        Action.UPDATE,
        session,
        by=by,
        request=request,
        detail=f"side effect recorded: {effect.type} ({effect.severity})",
    )
    return effect


def save_draft(session, changes, *, expected_version, by, request=None):
    """Save assessment / after-treatment fields of a draft, only if nobody saved it since
    `expected_version` was read. Refuses a stale version (ConflictError: nothing is overwritten), a
    signed session, and invalid values (pain outside 0 to 10)."""
    unknown = set(changes) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"save_draft cannot change {', '.join(sorted(unknown))}.")
    candidate = NeedlingSession.objects.get(pk=session.pk)
    if candidate.signed_at is not None:
        raise SessionSigned()
    for name, value in changes.items():
        setattr(candidate, name, value)
    candidate.clean_fields(exclude=[f.name for f in NeedlingSession._meta.fields if f.name not in changes])
    with transaction.atomic():
        updated = NeedlingSession.objects.filter(
            pk=session.pk, version=expected_version, signed_at__isnull=True
        ).update(**changes, version=F("version") + 1, updated_at=timezone.now(), updated_by=by)
        if not updated:
            current = NeedlingSession.objects.select_related("updated_by").get(pk=session.pk)
            if current.signed_at is not None:
                raise SessionSigned()
            who = current.updated_by or "someone else"
            raise ConflictError(
                f"{who} saved this session at {timezone.localtime(current.updated_at):%H:%M:%S} after you "
                "opened it. Your changes were not saved and nothing was overwritten: reload the session, "
                "then enter your changes again.",
                code="conflict",
            )
    _audit(
        Action.UPDATE,
        session,
        by=by,
        request=request,
        detail="changed: " + ", ".join(sorted(changes)) if changes else "saved without change",
    )
    return NeedlingSession.objects.get(pk=session.pk)


SIGNING_REQUIRED = [
    ("presenting_complaint", "the presenting complaint"),
    ("pain_before", "pain before (NRS)"),
    ("impression", "the impression"),
    ("plan", "the plan"),
    ("pain_after", "pain after (NRS)"),
    ("immediate_response", "the immediate response"),
    ("needles_in", "needles in"),
    ("needles_out", "needles out"),
]


def missing_for_signing(session):
    """What stops the session from being signed, as sentences naming each missing item (empty: ready)."""
    problems = []
    for name, label in SIGNING_REQUIRED:
        value = getattr(session, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{label[0].upper()}{label[1:]} is missing.")
    if not session.screening_reviewed:
        problems.append("The screening has not been marked as reviewed.")
    counted = session.needles_in is not None and session.needles_out is not None
    if counted and session.needles_in != session.needles_out:
        problems.append(
            f"Needles out ({session.needles_out}) differ from needles in ({session.needles_in}): "
            "find every needle before signing."
        )
    points = list(session.points.select_related("muscle"))
    if points and not session.needles_in:
        problems.append("Needles in must be at least 1 when needle points are recorded.")
    if (session.needles_in or 0) > 0 and not session.sharps_disposed:
        problems.append("Sharps disposal has not been confirmed.")
    if points and not session.aftercare_heat_hydration:
        problems.append("Aftercare advice (soreness, heat and hydration) has not been marked as given.")
    if any(p.muscle.risk_region != RiskRegion.NONE for p in points) and not session.aftercare_warning_signs:
        problems.append(
            "Neck or mid back points were needled: mark the warning-signs advice (breathlessness, "
            "chest pain, when to seek care) as given."
        )
    return problems


def content_hash(session):
    """SHA-256 (hex) of the session's content as signed: its fields, points and side effects in order,
    with its signing time and signer. Built by the database (treatments_session_document, migration
    0004) so that set-based loads hash exactly as sign_session does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT treatments_content_hash(id, signed_at, signed_by_id) FROM treatments_needlingsession "
            "WHERE id = %s",
            [session.pk],
        )
        return cursor.fetchone()[0]


def verify_content_hash(session):
    """True when a signed session still hashes to what was stored at signing."""
    stored = NeedlingSession.objects.filter(pk=session.pk).values_list("content_hash", flat=True).first()
    return bool(stored) and stored == content_hash(session)


def sign_session(session, *, by, request=None):
    """Sign a draft: stores signed_at, signed_by and the content hash; the session is read-only from
    then on, and a linked appointment is marked completed. Refuses anyone but the session's clinician,
    a clinician without a current authorisation, a session already signed, and an incomplete session
    (the message lists everything missing)."""
    with transaction.atomic():
        locked = _locked(session)
        if by.pk != locked.clinician_id:
            raise ValidationError("Only the clinician who treated the patient can sign this session.")
        if not _authorised(by, None):
            raise ValidationError(
                f"{by} has no current needling authorisation on file, so cannot sign a needling session."
            )
        problems = missing_for_signing(locked)
        if problems:
            raise ValidationError(["The session cannot be signed yet."] + problems, code="incomplete")
        signed_at = timezone.now()
        with connection.cursor() as cursor:
            # One statement: the hash covers the signing time and signer it writes (the trigger allows
            # this UPDATE because the row was not signed before it).
            cursor.execute(
                "UPDATE treatments_needlingsession SET signed_at = %s, signed_by_id = %s, updated_at = %s, "
                "content_hash = treatments_content_hash(id, %s, %s) WHERE id = %s AND signed_at IS NULL",
                [signed_at, by.pk, signed_at, signed_at, by.pk, locked.pk],
            )
        locked.refresh_from_db()
        if locked.appointment_id:
            from appointments.services import complete

            try:
                with transaction.atomic():
                    complete(locked.appointment, by=by, request=request)
            except ValidationError:
                # The record is what matters clinically: a cancelled or no-show appointment the session
                # was nonetheless given under stays as the front desk left it (its history shows why).
                pass
    _audit(
        Action.SIGN,
        locked,
        by=by,
        request=request,
        detail=f"signed; content sha256 {locked.content_hash[:16]}",
    )
    return locked


def add_addendum(session, *, by, text, request=None):
    """Add a dated addendum to a signed session. Refuses empty text and a draft (edit the draft)."""
    from .models import Addendum

    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum's text."})
    if not NeedlingSession.objects.filter(pk=session.pk, signed_at__isnull=False).exists():
        raise ValidationError(
            "This session is still a draft: edit it directly; addenda are for signed sessions."
        )
    if not by.has_role("physiotherapist"):
        raise ValidationError("Only physiotherapists write addenda to needling sessions.")
    addendum = Addendum.objects.create(session=session, author=by, text=text)
    _audit(Action.ADDENDUM, session, by=by, request=request, detail=f"addendum {addendum.pk}")
    return addendum
