"""Repeat last session (issue 14 part 2): a new draft starts from the previous session's needle points
(muscle, side, segment, needle, depth, technique). The points go through services.add_points, the one door
of every point, as one batch, so every rule of a point is judged again, today: consent by region (and the
database's own check), the screening's contraindications and precautions, the clinician's authorisation,
the depth, the draft being their own. A point refused is listed with its reason, never silently dropped
(add_points' skip_refused); all of it is one transaction.

What is repeated: the patient's latest signed session before the draft (a colleague's draft is not
finished, and signing is what makes a session the record). Twitch, response and insertions are what
happens today, so they start at their defaults; a depth past the muscle's advisory maximum is confirmed
again (never carried over)."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.access import Refused
from audit.models import Action
from audit.services import audited_transaction

from . import services
from .models import NeedlingSession

# The fields a repeated point takes from the previous one (issue 14: muscle, side, segment, needle, depth,
# technique).
REPEATED_FIELDS = ["muscle", "side", "segment", "needle_size", "depth_mm", "technique"]


@dataclass
class RepeatOutcome:
    """What a repeat did: the session repeated, the points added, and [(point repeated, reason)]."""

    source: NeedlingSession
    added: list = field(default_factory=list)
    refused: list = field(default_factory=list)

    def as_stored(self):
        """The refused points as plain text, for the draft's screen to list (kept in the user's session)."""
        return {
            "source_day": f"{timezone.localtime(self.source.started_at):%Y-%m-%d}",
            "source": self.source.pk,
            "added": len(self.added),
            "refused": [
                {"point": f"{point.order}. {point.muscle} ({point.get_side_display()})", "reason": reason}
                for point, reason in self.refused
            ],
        }


def previous_session(session):
    """The patient's latest signed session started before `session` (the one "Repeat last session"
    repeats), or None."""
    return (
        NeedlingSession.objects.filter(
            patient_id=session.patient_id, signed_at__isnull=False, started_at__lte=session.started_at
        )
        .exclude(pk=session.pk)
        .select_related("clinician")
        .order_by("-started_at", "-id")
        .first()
    )


def repeat_session(session, *, source, by, request=None):
    """Add to the draft `session` the needled points of `source` through services.add_points (so each is
    judged today: the allowed ones are saved, the refused ones listed), in one transaction; returns a
    RepeatOutcome listing the points refused and why.

    Refuses (403, audited) anyone but the draft's own clinician, and a source session of another patient
    or one the user may not read; refuses a signed draft, a source that is not a signed session before
    the draft, and a draft that already has needle points (repeating would double them)."""
    services.check_session_access(session, by, services.Intent.NEEDLE, request=request)
    if source is None:
        raise ValidationError("This patient has no signed session before this one to repeat.")
    if source.patient_id != session.patient_id:
        reason = f"session {source.pk} is not a session of this patient."
        services._record_refusal(
            session, by=by, request=request, what=f"repeat session {source.pk} into session {session.pk}",
            reason=reason,
        )  # fmt: skip
        raise Refused(
            f"You may not repeat that session here: {reason}", patient_id=session.patient_id, audited=True
        )
    services.check_session_access(source, by, services.Intent.READ, request=request)
    if source.pk == session.pk or source.signed_at is None or source.started_at > session.started_at:
        raise ValidationError("Only a signed session before this one can be repeated.")
    points = list(
        source.points.filter(removal__isnull=True).select_related("muscle", "needle_size").order_by("order")
    )
    outcome = RepeatOutcome(source=source)
    with audited_transaction():
        locked = services._locked(session)
        if locked.points.filter(removal__isnull=True).exists():
            raise ValidationError(
                "This draft already has needle points: repeating the last session would add them twice."
            )
        added = services.add_points(
            locked,
            [{name: getattr(point, name) for name in REPEATED_FIELDS} for point in points],
            by=by,
            request=request,
            skip_refused=True,
        )
        outcome.added = added.added
        outcome.refused = [(points[index], reason) for index, _fields, reason in added.refused]
        services._audit(
            Action.UPDATE,
            locked,
            by=by,
            request=request,
            detail=f"repeated session {source.pk}: {len(outcome.added)} point(s) added, "
            f"{len(outcome.refused)} refused",
        )
    return outcome


def start_repeating(*, patient, clinician, request=None):
    """Start (or reopen) the clinician's draft for the patient, then repeat the patient's last signed
    session into it: (session, RepeatOutcome). The draft is started first, in its own transaction, so that
    a refused repeat (no signed session yet, a draft that already has points) still leaves the clinician on
    their draft with the reason; the points are repeated in one transaction. Refuses what start_session
    refuses (nothing is started) and what repeat_session refuses (raised with the session on it)."""
    session = services.start_session(patient=patient, clinician=clinician, request=request)
    try:
        outcome = repeat_session(session, source=previous_session(session), by=clinician, request=request)
    except ValidationError as refused:
        refused.session = session
        raise
    return session, outcome
