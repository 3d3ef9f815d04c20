"""Rules of a needling session that span models: who may act on a session (DESIGN.md rule 4: its own
clinician writes its draft, an authorised clinician may add an addendum, the care team reads), who may
start and sign, the consent gate for every point (the general risks; the neck and mid back regions too),
depths, optimistic concurrency of drafts, signing with a content hash, and addenda.

Each service validates once and then saves (model save() holds no rule); the database holds the same
rules for every other door (migrations 0003 and 0006). Every change is audited inside its own
transaction, so a change and its audit event commit or roll back together; a refused attempt leaves an
audit event saying what was refused."""

from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from accounts.access import Refused
from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction, record

from .models import Muscle, NeedlePoint, NeedleSize, NeedlingSession, RiskRegion, SideEffect


class ConflictError(ValidationError):
    """Raised when a draft was saved by someone else since it was opened: nothing is overwritten."""


class NotAuthorised(ValidationError):
    """The clinician has no current needling authorisation at this moment (DESIGN.md rule 4)."""


class ScreeningRefusal(ValidationError):
    """A point the patient's screening does not allow now (DESIGN.md rule 6)."""


class ScreeningDue(ScreeningRefusal):
    """No screening, one older than SCREENING_VALID_MONTHS, or (for the neck and mid back) one that never
    asked the pneumothorax questions: a new screening comes before the point."""


class Contraindicated(ScreeningRefusal):
    """A contraindication found at screening covers the point: it is not needled."""


class PrecautionNotAcknowledged(ScreeningRefusal):
    """A precaution found at screening covers the point and is not acknowledged for this session."""


class Intent(StrEnum):
    """What someone wants to do with a session, for check_session_access()."""

    READ = "read"  # the session page, its PDF
    WRITE = "write"  # the draft's assessment, a point's correction form, removing a point
    NEEDLE = "needle"  # add or change a needle point, record a side effect (needs the authorisation too)
    SIGN = "sign"
    ADDENDUM = "addendum"


INTENT_WORDS = {
    Intent.READ: "open",
    Intent.WRITE: "change",
    Intent.NEEDLE: "add needle points or side effects to",
    Intent.SIGN: "sign",
    Intent.ADDENDUM: "add an addendum to",
}


# Fields of the assessment / after-treatment form that save_draft may change.
DRAFT_FIELDS = [
    "presenting_complaint",
    "history",
    "pain_before",
    "rom_findings",
    "screening_reviewed",
    "impression",
    "plan",
    "review_on",
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


def _record_refusal(session, *, by, request, what, reason):
    """The audit event of a refused attempt on a session: who tried what, and why it was refused."""
    record(
        Action.PERMISSION_DENIED,
        request=request,
        user=by,
        obj=session,
        patient_id=session.patient_id,
        detail=f"refused: {what}: {reason}"[:1000],
    )


def _authorised(clinician, on=None):
    """May `clinician` needle at `on` (a moment or a day; now by default)?"""
    return clinician is not None and clinician.may_needle(on)


# --- who may act on a session ---------------------------------------------------------------------
def check_session_access(session, user, intent, *, request=None):
    """Refuse (Refused: the view answers 403, and the attempt is audited here) what `user` may not do
    with `session`. The care team (every physiotherapist, and the administrator, who reads everything)
    reads any session, drafts included: a colleague covering a patient needs the draft as it stands.
    Only the session's own clinician writes, needles on and signs its draft; an addendum is written by
    the session's clinician or by another clinician with a current needling authorisation (covering a
    colleague), always under their own name. Nobody else does any of it. With chart privacy on
    (CHART_ACCESS=care_team), a physiotherapist outside the patient's care team does none of it either
    until they break the glass: the chart's own rule (patients.privacy.may_open_chart), asked here too so
    that no door to a session escapes it. Whether the clinician's own authorisation is current is checked
    by the writing services themselves (a form error, not a 403)."""
    from patients.privacy import may_open_chart

    reason = None
    if user is None or not user.is_authenticated or not user.is_active:
        reason = "Sign in first."
    elif intent == Intent.READ:
        if not user.is_clinical:
            reason = "Needling sessions are clinical records, for clinicians only."
    elif not user.has_role(Role.PHYSIO):
        reason = "Only physiotherapists write needling records."
    elif intent == Intent.ADDENDUM:
        if user.pk != session.clinician_id and not _authorised(user):
            reason = (
                f"{user} has no current needling authorisation: an addendum is written by the session's "
                "clinician or by another authorised clinician."
            )
    elif user.pk != session.clinician_id:
        reason = (
            f"This session belongs to {session.clinician}: only the clinician who treated the patient "
            "writes, needles on or signs it. Colleagues may read it, and add an addendum once it is signed."
        )
    if reason is None and not may_open_chart(user, session.patient_id):
        reason = (
            "This patient is not on your care team (chart privacy): break the glass from the patient's "
            "chart, saying why, to open it."
        )
    if reason is not None:
        what = f"{INTENT_WORDS[Intent(intent)]} needling session {session.pk}"
        _record_refusal(
            session,
            by=user if user and user.is_authenticated else None,
            request=request,
            what=what,
            reason=reason,
        )
        raise Refused(f"You may not {what}. {reason}", patient_id=session.patient_id, audited=True)


@contextmanager
def _refusals_audited(session, *, by, request, what):
    """Audit a clinical rule's refusal (authorisation, consent) of `what`, outside the rolled-back work."""
    from consent.errors import NeedlingNotAllowed

    try:
        yield
    except (NotAuthorised, NeedlingNotAllowed, ScreeningRefusal) as refused:
        _record_refusal(session, by=by, request=request, what=what, reason=" ".join(refused.messages))
        raise


def check_can_start(clinician, patient=None, on=None):
    """Refuses a clinician without a current needling authorisation on file, and an archived patient."""
    if not _authorised(clinician, on):
        raise NotAuthorised(
            f"{clinician} has no current needling authorisation on file: only clinicians on the needling "
            "roster may start or sign a needling session.",
            code="not_authorised",
        )
    if patient is not None and patient.archived_at is not None:
        raise ValidationError("This patient is archived: restore the patient before starting a session.")


def open_draft(patient, clinician):
    """The clinician's newest unsigned session for the patient, or None."""
    return (
        NeedlingSession.objects.filter(patient=patient, clinician=clinician, signed_at__isnull=True)
        .order_by("-started_at", "-id")
        .first()
    )


def start_session(*, patient, clinician, appointment=None, request=None):
    """Create a draft session for the patient by the clinician (optionally for an appointment), or, when
    the clinician already has an open draft for this patient (and no other appointment is named), open
    that one: two clicks make one draft.

    Refuses an unauthorised clinician and an archived patient. Consent is not needed to start (the
    assessment comes first; consent may be obtained during the visit): it is needed for every point."""
    try:
        check_can_start(clinician, patient)
    except ValidationError as refused:
        record(
            Action.PERMISSION_DENIED,
            request=request,
            user=clinician,
            obj=patient,
            patient_id=patient.pk,
            detail=f"refused: start a needling session: {' '.join(refused.messages)}"[:1000],
        )
        raise
    with audited_transaction():
        existing = open_draft(patient, clinician)
        reusable = existing is not None and (
            appointment is None or existing.appointment_id in (None, appointment.pk)
        )
        if reusable:
            if appointment is not None and existing.appointment_id is None:
                # The draft started from the chart now belongs to the visit being started.
                NeedlingSession.objects.filter(pk=existing.pk).update(appointment=appointment)
                existing.appointment = appointment
                _audit(
                    Action.UPDATE,
                    existing,
                    by=clinician,
                    request=request,
                    detail=f"draft linked to appointment {appointment.pk}",
                )
            return existing
        session = NeedlingSession(patient=patient, clinician=clinician, updated_by=clinician)
        if appointment is not None:
            session.appointment = appointment
        try:
            with transaction.atomic():
                session.save()
        except IntegrityError as error:
            raise NotAuthorised(_database_reason(error), code="not_authorised") from error
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

    Refuses an unauthorised clinician; returns the existing session when one is already linked, and the
    clinician's open draft for the patient when there is one (linking it to the appointment)."""
    from appointments.services.status_changes import mark_in_treatment

    with audited_transaction():
        existing = NeedlingSession.objects.filter(appointment=appointment).first()
        if existing is not None:
            return existing
        session = start_session(
            patient=appointment.patient, clinician=by, appointment=appointment, request=request
        )
        mark_in_treatment(appointment, by=by, request=request)
    return session


def _locked(session):
    """The session row, locked for this transaction, refusing a signed one."""
    current = NeedlingSession.objects.select_for_update().get(pk=session.pk)
    current.refuse_if_signed()
    return current


def _database_reason(error):
    """The sentence a trigger of migration 0006 refused a row with (after "refused: ")."""
    text = str(getattr(error, "__cause__", None) or error).splitlines()[0]
    return text.split("refused: ", 1)[-1].rstrip(".") + "."


class PointRules:
    """What the rules of needle points on one draft are judged from, at one moment, each loaded once and
    only when a point first needs it: the clinician's authorisation, the patient's consent for the regions
    the points fall in (one query for all of them: consent.selectors.consents_allowing_regions), the
    screening and the precautions acknowledged on the session. add_points() judges every point of a batch
    against one of these, so 40 points cost what one does."""

    def __init__(self, session, *, by, at, regions=()):
        self.session, self.by, self.at = session, by, at
        self.regions = set(regions)
        self._authorised = self._consents = self._screening = self._acknowledged = None

    def authorised(self):
        if self._authorised is None:
            self._authorised = _authorised(self.by, self.at)
        return self._authorised

    def consents(self, region):
        """AllowingConsents for a point in `region`, or raise the NeedlingNotAllowed saying why not."""
        from consent.selectors import consents_allowing_regions

        if self._consents is None or region not in self._consents:
            self.regions.add(region)
            self._consents = consents_allowing_regions(self.session.patient_id, self.regions, at=self.at)
        decided = self._consents[region]
        if isinstance(decided, Exception):
            raise decided.__class__(decided.message, code=decided.code)  # a fresh one for each point
        return decided

    def screening(self):
        """(screening, findings, due, unasked) as screening_at() gives them."""
        if self._screening is None:
            self._screening = screening_at(self.session, self.at)
        return self._screening

    def acknowledged(self):
        """The precaution items acknowledged for this session."""
        if self._acknowledged is None:
            self._acknowledged = set(self.session.acknowledgements.values_list("item", flat=True))
        return self._acknowledged


def _point_region(muscle):
    from consent.models import Region

    return Region.GENERAL if muscle.risk_region == RiskRegion.NONE else Region(muscle.risk_region)


def _check_point(point, *, by, at, rules=None):
    """The rules of one needle point, judged at `at`, in the order a clinician would want to hear them:
    the session is a draft; the clinician may needle now; the depth is positive, within the needle's
    length, and confirmed past the muscle's advisory maximum; the consent allows needling now (the general
    risks, for every point) and the muscle's risk region (neck, mid back) when it has one. Sets the
    point's recorded_at and the consents it refers to. Raises SessionSigned (models), NotAuthorised,
    ValidationError (by field) or consent's NeedlingNotAllowed. `rules` (PointRules) holds what is
    loaded once for a batch of points of one session; one is made for this point alone without it."""
    session = point.session
    rules = rules or PointRules(session, by=by, at=at)
    session.refuse_if_signed()
    if not rules.authorised():
        raise NotAuthorised(
            f"{by} has no current needling authorisation on file (it lapsed or was never granted): no "
            "further point or side effect may be recorded. The assessment and notes can still be saved.",
            code="not_authorised",
        )
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
    allowing = rules.consents(_point_region(point.muscle))
    _check_screening(point, rules=rules)
    point.recorded_at = at
    point.consent_id = allowing.general_id
    point.region_consent_id = allowing.region_id


def screening_at(session, at=None):
    """(screening, findings, due, unasked) for the session's patient at `at` (now by default): the latest
    screening answered by then, what the clinic's rules make of its yes answers, whether it is due (none,
    or older than SCREENING_VALID_MONTHS), and the pneumothorax questions it never asked."""
    from patients.services import findings, latest_screening, pneumothorax_questions_unasked, screening_is_due

    at = at or timezone.now()
    screening = latest_screening(session.patient_id, at=at)
    return (
        screening,
        findings(screening),
        screening_is_due(screening, now=at),
        pneumothorax_questions_unasked(screening),
    )


def _check_screening(point, *, rules):
    """DESIGN.md rule 6 for one point: refuse it when the screening is due (ScreeningDue), when a
    contraindication covers it (Contraindicated, naming the item and where it applies), or when a
    precaution covers it and is not acknowledged for this session (PrecautionNotAcknowledged)."""
    screening, found, due, unasked = rules.screening()
    if due:
        when = (
            f"the last one was on {timezone.localtime(screening.answered_at):%Y-%m-%d}"
            if screening
            else "none is on file"
        )
        raise ScreeningDue(
            f"The screening is due ({when}): record a new screening with the patient before the first point.",
            code="screening_due",
        )
    muscle = point.muscle
    if unasked and muscle.is_risk:
        raise ScreeningDue(
            f"The screening of {timezone.localtime(screening.answered_at):%Y-%m-%d} did not ask about the "
            f"pneumothorax risk factors ({', '.join(label.lower() for label in unasked)}): record a new "
            "screening before needling the neck or mid back.",
            code="screening_due",
        )
    for finding in found:
        if not finding.covers(
            body_region=muscle.body_region, risk_region=muscle.risk_region, side=point.side
        ):
            continue
        day = f"{timezone.localtime(finding.answered_at):%Y-%m-%d}"
        if finding.is_contraindication:
            raise Contraindicated(
                f"{finding.described}, found at the screening of {day}, is a contraindication: no needling "
                f"{'at all this session' if finding.where == 'every point' else finding.where} ({muscle}, "
                f"{point.get_side_display().lower()}, refused). {finding.reason}".strip(),
                code="contraindicated",
            )
        if finding.item not in rules.acknowledged():
            raise PrecautionNotAcknowledged(
                f"{finding.described}, found at the screening of {day}, is a precaution for "
                f"{finding.where}: acknowledge it for this session (Screening, at the top of the session) "
                f"before needling {muscle}.",
                code="precaution",
            )


def acknowledge_precautions(session, *, by, items, request=None):
    """Record the clinician's acknowledgement, for this session, of precautions found on the patient's
    current screening (each at most once). Refuses (403) anyone but the session's clinician; refuses a
    signed session, a due screening, and an item that is not a precaution found on it."""
    from patients.models import SCREENING_LABELS

    from .models import PrecautionAcknowledgement

    check_session_access(session, by, Intent.WRITE, request=request)
    items = list(dict.fromkeys(items))
    if not items:
        raise ValidationError("Tick the precautions you acknowledge for this session.")
    with audited_transaction():
        locked = _locked(session)
        screening, found, due, _unasked = screening_at(locked)
        if due:
            raise ScreeningDue("The screening is due: record a new screening with the patient first.")
        precautions = {f.item for f in found if not f.is_contraindication}
        unknown = [item for item in items if item not in precautions]
        if unknown:
            raise ValidationError(
                "Not a precaution found on the current screening: "
                + ", ".join(SCREENING_LABELS.get(item, item) for item in unknown)
                + "."
            )
        already = set(locked.acknowledgements.values_list("item", flat=True))
        added = [
            PrecautionAcknowledgement.objects.create(
                session=locked, item=item, screening=screening, acknowledged_by=by
            )
            for item in items
            if item not in already
        ]
        if added:
            _audit(
                Action.UPDATE,
                locked,
                by=by,
                request=request,
                detail="precautions acknowledged: " + ", ".join(a.get_item_display() for a in added),
            )
    return added


def _database_refusal(error, what="point was"):
    """A refusal by the database (a consent withdrawn or an authorisation lapsed a moment ago, by another
    door) as the same kind of message as the service's own; None for any other integrity error."""
    from consent.errors import NeedlingNotAllowed

    reason = _database_reason(error)
    if "authorisation" in reason:
        return NotAuthorised(f"The {what} not saved: {reason}", code="not_authorised")
    if "consent" in reason:
        return NeedlingNotAllowed(
            f"The {what} not saved: {reason} The consent may have changed a moment ago; check it.",
            code="consent_missing",
        )
    return None


def _save_point(point):
    """Save a checked point; the database's refusal becomes a message (_database_refusal)."""
    try:
        with transaction.atomic():
            point.save()
    except IntegrityError as error:
        refusal = _database_refusal(error)
        if refusal is None:
            raise
        raise refusal from error


def _insert_points(points):
    """Insert checked points of one locked draft in one statement (the database's triggers still judge
    each row: migration 0006); its refusal becomes a message (_database_refusal). Called inside
    add_points' audited transaction, which rolls back on the refusal (a savepoint of its own when nested,
    so no further one is needed here)."""
    try:
        return NeedlePoint.objects.bulk_create(points)
    except IntegrityError as error:
        refusal = _database_refusal(error, "point was" if len(points) == 1 else "points were")
        if refusal is None:
            raise
        raise refusal from error


def last_needle_size(clinician):
    """The needle size the clinician used last, offered (and shown as carried over) for the next point."""
    last = (
        NeedlePoint.objects.filter(session__clinician=clinician, removal__isnull=True)
        .order_by("-session__started_at", "-order")
        .select_related("needle_size")
        .first()
    )
    return last.needle_size if last else None


@dataclass
class PointsAdded:
    """What add_points() did: the points saved, in order, and [(index in the batch, fields, reason)] of
    those it refused (only with skip_refused; otherwise the first refusal is raised and nothing saved)."""

    added: list = field(default_factory=list)
    refused: list = field(default_factory=list)


def _described(points):
    return "; ".join(f"{point.order} {point.muscle} {point.side}" for point in points)


def _catalogue_rows(points, name, model):
    """{id: row} of the catalogue rows (muscles, needle sizes) the points name: those given as rows read
    from the database are taken as given (as clean_fields' existence check would find them); ids, or rows
    never saved, are read in one query."""
    rows, wanted = {}, set()
    for point in points:
        given = point.__dict__.get("_state") and point._state.fields_cache.get(name)
        if given is not None and given.pk is not None and not given._state.adding:
            rows[given.pk] = given
        elif getattr(point, f"{name}_id") is not None:
            wanted.add(getattr(point, f"{name}_id"))
    if wanted - set(rows):
        rows.update(model.objects.in_bulk(wanted - set(rows)))
    return rows


def add_points(session, points, *, by, request=None, skip_refused=False):
    """Add needle points (each a dict of POINT_FIELDS) to a draft session, in order, as its own clinician:
    the one door every point goes through (add_point, the htmx row and repeat last session call it).
    Everything it needs is read once for the batch: the session locked (with its last point's order) in
    one statement, the consent for every region the points fall in in one query, the screening once, the
    catalogue rows only when given as ids (one query each); the points are inserted in one statement and
    described in one audit event. A batch of 40 costs the queries one point does (12, against 16 for
    each point before issue 17).

    Refuses (403) anyone but the session's clinician; refuses a signed session, and for each point what
    add_point refuses. By default one refused point refuses the batch: the first refusal is raised, as
    add_point raises it, and nothing is saved. With skip_refused the points allowed are saved and the
    refused ones are returned with their reasons (repeat last session lists them), each audited; a
    refusal by the database itself (a consent withdrawn a moment ago) still refuses them all."""
    check_session_access(session, by, Intent.NEEDLE, request=request)
    points = [dict(fields) for fields in points]
    what = f"add {'a needle point' if len(points) == 1 else 'needle points'} to session {session.pk}"
    outcome = PointsAdded()
    with _refusals_audited(session, by=by, request=request, what=what), audited_transaction():
        # The session locked, and the last point's order read, in one statement.
        locked = (
            NeedlingSession.objects.select_for_update(of=("self",))
            .annotate(
                last_order=Subquery(
                    NeedlePoint.objects.filter(session=OuterRef("pk")).order_by("-order").values("order")[:1]
                )
            )
            .get(pk=session.pk)
        )
        locked.refuse_if_signed()
        candidates = [NeedlePoint(session=locked, order=0, **fields) for fields in points]
        muscles = _catalogue_rows(candidates, "muscle", Muscle)
        sizes = _catalogue_rows(candidates, "needle_size", NeedleSize)
        rules = PointRules(
            locked, by=by, at=timezone.now(), regions={_point_region(m) for m in muscles.values()}
        )
        accepted = []
        for index, point in enumerate(candidates):
            try:
                # The catalogue rows are known (clean_fields would ask for each one again); those that are
                # not are left to clean_fields' own message.
                known = [
                    name
                    for name, rows in (("muscle", muscles), ("needle_size", sizes))
                    if getattr(point, f"{name}_id") in rows
                ]
                point.clean_fields(exclude=["order", "session", "consent", "region_consent", *known])
                if "muscle" in known:
                    point.muscle = muscles[point.muscle_id]
                if "needle_size" in known:
                    point.needle_size = sizes[point.needle_size_id]
                _check_point(point, by=by, at=rules.at, rules=rules)
            except ValidationError as refused:
                if not skip_refused:
                    raise
                outcome.refused.append((index, points[index], " ".join(refused.messages)))
            else:
                accepted.append(point)
        for _index, refused_fields, reason in outcome.refused:
            named = f"{refused_fields.get('muscle')}, {refused_fields.get('side')}"
            # Each refused point is audited as add_point audits its refusal (they go into the chain with
            # the batch's other events, under its one lock).
            _record_refusal(
                locked,
                by=by,
                request=request,
                what=f"add a needle point ({named}) to session {session.pk}",
                reason=reason,
            )
        if accepted:
            last = locked.last_order or 0
            for offset, point in enumerate(accepted, start=1):
                point.order = last + offset
            outcome.added = _insert_points(accepted)
            if len(accepted) == 1:
                point = accepted[0]
                detail = f"needle point {point.order} added ({point.muscle}, {point.side})"
            else:
                detail = f"needle points {last + 1} to {last + len(accepted)} added: {_described(accepted)}"
            _audit(Action.UPDATE, locked, by=by, request=request, detail=detail[:2000])
    return outcome


def add_point(session, *, by, request=None, **fields):
    """Add the next needle point to a draft session, as its own clinician (add_points with one point).

    Refuses (403) anyone but the session's clinician; refuses a signed session, a clinician whose
    needling authorisation is not current at this moment, a bad depth or insertion count, a segment that
    does not exist, an unconfirmed depth past the advisory maximum, any point without the general risks
    accepted on a current consent, and a neck / mid back point without that region's consent."""
    return add_points(session, [fields], by=by, request=request).added[0]


def update_point(point, *, by, request=None, **fields):
    """Correct a needle point of a draft session; the same rules as add_point, judged now (a correction is
    recorded again, under the consent and authorisation in force now)."""
    check_session_access(point.session, by, Intent.NEEDLE, request=request)
    if hasattr(point, "removal") or NeedlePoint.objects.filter(pk=point.pk, removal__isnull=False).exists():
        raise ValidationError("This point was removed (entered in error); add a new point instead.")
    what = f"change needle point {point.order} of session {point.session_id}"
    with _refusals_audited(point.session, by=by, request=request, what=what), audited_transaction():
        locked = _locked(point.session)
        point = NeedlePoint.objects.get(pk=point.pk)
        point.session = locked
        for name, value in fields.items():
            setattr(point, name, value)
        point.clean_fields(exclude=["session", "consent", "region_consent"])
        _check_point(point, by=by, at=timezone.now())
        _save_point(point)
        _audit(
            Action.UPDATE,
            locked,
            by=by,
            request=request,
            detail=f"needle point {point.order} changed: {', '.join(sorted(fields))}",
        )
    return point


def remove_point(point, *, by, reason, request=None):
    """Remove a point entered in error on a draft, with a reason: it is kept, struck through, and no longer
    counts as needled (nothing clinical is deleted). Refuses (403) anyone but the session's clinician;
    refuses a signed session (write an addendum), a point already removed, and an empty reason."""
    from .models import PointRemoval

    check_session_access(point.session, by, Intent.WRITE, request=request)
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise ValidationError(
            {"reason": "Say why the point is removed (for example: entered on the wrong side)."}
        )
    with audited_transaction():
        locked = _locked(point.session)
        if PointRemoval.objects.filter(point_id=point.pk).exists():
            raise ValidationError(f"Point {point.order} was already removed.")
        removal = PointRemoval.objects.create(point=point, session=locked, removed_by=by, reason=reason)
        _audit(
            Action.UPDATE,
            locked,
            by=by,
            request=request,
            detail=f"needle point {point.order} removed (entered in error): {reason}",
        )
    return removal


def add_side_effect(session, *, by, request=None, **fields):
    """Record a side effect on a draft session, as its own clinician with a current authorisation; a
    significant or serious one opens an incident and alerts the clinician and the manager. Refuses (403)
    anyone else; refuses a missing type or severity, an undescribed "other", and a signed session (add an
    addendum instead)."""
    check_session_access(session, by, Intent.NEEDLE, request=request)
    what = f"record a side effect on session {session.pk}"
    with _refusals_audited(session, by=by, request=request, what=what), audited_transaction():
        locked = _locked(session)
        if not _authorised(by, timezone.now()):
            raise NotAuthorised(
                f"{by} has no current needling authorisation on file: side effects of this session "
                "are recorded by an authorised clinician, or in an addendum once it is signed.",
                code="not_authorised",
            )
        effect = SideEffect(session=locked, **fields)
        effect.clean_fields(exclude=["session"])
        effect.clean()
        effect.save()
        _audit(
            Action.UPDATE,
            locked,
            by=by,
            request=request,
            detail=f"side effect recorded: {effect.type} ({effect.severity})",
        )
        # A significant or serious one has opened an incident (the database did): alert at once.
        from .incidents import opened_for

        opened_for(effect, by=by, request=request)
    return effect


def save_draft(session, changes, *, expected_version, by, request=None):
    """Save assessment / after-treatment fields of a draft, as its own clinician, only if nobody saved it
    since `expected_version` was read. Refuses (403) anyone but the session's clinician; refuses a stale
    version (ConflictError: nothing is overwritten), a signed session, and invalid values (pain outside
    0 to 10, a review date before the session or over a year after it)."""
    check_session_access(session, by, Intent.WRITE, request=request)
    unknown = set(changes) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"save_draft cannot change {', '.join(sorted(unknown))}.")
    candidate = NeedlingSession.objects.get(pk=session.pk)
    candidate.refuse_if_signed()
    for name, value in changes.items():
        setattr(candidate, name, value)
    candidate.clean_fields(exclude=[f.name for f in NeedlingSession._meta.fields if f.name not in changes])
    if changes.get("review_on") is not None:
        _check_review_date(candidate)
    now = timezone.now()
    with audited_transaction():
        updated = NeedlingSession.objects.filter(
            pk=session.pk, version=expected_version, signed_at__isnull=True
        ).update(**changes, version=F("version") + 1, updated_at=now, updated_by=by)
        if not updated:
            current = NeedlingSession.objects.select_related("updated_by").get(pk=session.pk)
            current.refuse_if_signed()
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
    # The row as the UPDATE left it (no need to read it back): the changes, the next version, who and when.
    candidate.version, candidate.updated_at, candidate.updated_by = expected_version + 1, now, by
    return candidate


# A review further ahead than this is a typo (2062 for 2026): a course of care is reviewed within months.
REVIEW_WITHIN_DAYS = 366


def _check_review_date(session):
    """The plan's review date falls on or after the session's day and within REVIEW_WITHIN_DAYS of it."""
    day = timezone.localtime(session.started_at).date()
    if session.review_on < day:
        raise ValidationError(
            {"review_on": f"The plan's review date cannot be before the session ({day:%Y-%m-%d})."}
        )
    if (session.review_on - day).days > REVIEW_WITHIN_DAYS:
        message = (
            f"The plan's review date is more than a year after the session ({day:%Y-%m-%d}): check the year."
        )
        raise ValidationError({"review_on": message})


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


def missing_for_signing(session, needled=None, *, needled_regions=None):
    """What stops the session from being signed, as sentences naming each missing item (empty: ready).
    `needled`: the session's points not removed, with their muscles, when the caller has them already
    (the session screen); read here otherwise. `needled_regions`: instead of the points, the set of their
    muscles' risk regions (empty: no point), when the caller read that alone (sign_session)."""
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
    if needled_regions is None:
        if needled is None:
            needled = session.points.filter(removal__isnull=True).select_related("muscle")
        needled_regions = {point.muscle.risk_region for point in needled}
    if needled_regions and not session.needles_in:
        problems.append("Needles in must be at least 1 when needle points are recorded.")
    if (session.needles_in or 0) > 0 and not session.sharps_disposed:
        problems.append("Sharps disposal has not been confirmed.")
    if needled_regions and not session.aftercare_heat_hydration:
        problems.append("Aftercare advice (soreness, heat and hydration) has not been marked as given.")
    if any(region != RiskRegion.NONE for region in needled_regions) and not session.aftercare_warning_signs:
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
    then on, and a linked appointment is marked completed. Refuses (403) anyone but the session's
    clinician; refuses a clinician without a current authorisation, a session already signed, and an
    incomplete session (the message lists everything missing)."""
    check_session_access(session, by, Intent.SIGN, request=request)
    what = f"sign session {session.pk}"
    with _refusals_audited(session, by=by, request=request, what=what), audited_transaction():
        # The session locked, with the risk regions of its points not removed (all missing_for_signing
        # needs of them), in one statement: not a second query reading every point (issue 17).
        locked = (
            NeedlingSession.objects.select_for_update(of=("self",))
            .annotate(
                needled_regions=ArraySubquery(
                    NeedlePoint.objects.filter(session=OuterRef("pk"), removal__isnull=True)
                    .order_by()
                    .values("muscle__risk_region")
                    .distinct()
                )
            )
            .get(pk=session.pk)
        )
        locked.refuse_if_signed()
        if not _authorised(by):
            raise NotAuthorised(
                f"{by} has no current needling authorisation on file, so cannot sign a needling session.",
                code="not_authorised",
            )
        problems = missing_for_signing(locked, needled_regions=set(locked.needled_regions))
        if problems:
            raise ValidationError(["The session cannot be signed yet."] + problems, code="incomplete")
        signed_at = timezone.now()
        with connection.cursor() as cursor:
            # One statement: the hash covers the signing time and signer it writes (the trigger allows
            # this UPDATE because the row was not signed before it).
            # It returns what it wrote (no trigger changes any other column), so the row is not read again.
            cursor.execute(
                "UPDATE treatments_needlingsession SET signed_at = %s, signed_by_id = %s, "
                "updated_at = %s, content_hash = treatments_content_hash(id, %s, %s) "
                "WHERE id = %s AND signed_at IS NULL "
                "RETURNING signed_at, signed_by_id, updated_at, content_hash",
                [signed_at, by.pk, signed_at, signed_at, by.pk, locked.pk],
            )
            locked.signed_at, locked.signed_by_id, locked.updated_at, locked.content_hash = cursor.fetchone()
        if locked.appointment_id:
            from appointments.services.status_changes import complete

            try:
                with audited_transaction():
                    complete(locked.appointment, by=by, request=request)
            except ValidationError:
                # The record is what matters clinically: a cancelled or no-show appointment the
                # session was nonetheless given under stays as the front desk left it (its history
                # shows why).
                pass
        _audit(
            Action.SIGN,
            locked,
            by=by,
            request=request,
            detail=f"signed; content sha256 {locked.content_hash[:16]}",
        )
        from .summary import store_visit_summary_on_commit  # the summary module imports this one

        store_visit_summary_on_commit(locked)
    return locked


def add_addendum(session, *, by, text, request=None):
    """Add a dated addendum to a signed session, under its author's name. Refuses (403) anyone but the
    session's clinician or another clinician with a current needling authorisation; refuses empty text
    and a draft (edit the draft)."""
    from .models import Addendum

    check_session_access(session, by, Intent.ADDENDUM, request=request)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the addendum's text."})
    if not NeedlingSession.objects.filter(pk=session.pk, signed_at__isnull=False).exists():
        raise ValidationError(
            "This session is still a draft: edit it directly; addenda are for signed sessions."
        )
    with audited_transaction():
        addendum = Addendum.objects.create(session=session, author=by, text=text)
        _audit(Action.ADDENDUM, session, by=by, request=request, detail=f"addendum {addendum.pk}")
        from .summary import store_visit_summary_on_commit

        store_visit_summary_on_commit(session)  # the summary shows addenda: a new version, the old kept
    return addendum
