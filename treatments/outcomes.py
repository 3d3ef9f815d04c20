"""Outcome measures scored between sessions (issue 14 part 2): the Patient-Specific Functional Scale.

PSFS (Stratford, Gill, Westaway and Binkley, Physiotherapy Canada 1995): the patient names up to five
activities they have difficulty with because of their problem and scores each from 0 (unable to perform)
to 10 (able to perform at the level before the problem); the score is the mean of the activity scores.
The same activities are scored again at each visit, so each has its own trend: the form offers the
activities of the last scoring, word for word, and the chart groups a trend by activity. The PSFS is
free to use (docs/outcomes.md); the Neck Disability Index is not added, and docs/outcomes.md says why.

A scoring is kept as scored (migration 0012): a new one is recorded, an old one never changed."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection

from accounts.access import Refused
from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction, record

from .models import PSFS_MAX_ACTIVITIES, OutcomeItem, OutcomeKind, OutcomeMeasure

ACTIVITY_MAX = 120


def activity_key(name):
    """The activity as the trend groups it: the same words whatever their case or spacing."""
    return " ".join(name.split()).casefold()


def psfs_score(scores):
    """The PSFS score: the mean of the activity scores, to two decimals."""
    mean = Decimal(sum(scores)) / len(scores)
    return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_activities(activities):
    """The activities as (name, score) pairs, cleaned; refuses (ValidationError, naming what is wrong)
    none at all, more than PSFS_MAX_ACTIVITIES, an unnamed or overlong activity, a score that is not a
    whole number from 0 to 10, and the same activity twice."""
    cleaned, seen, errors = [], set(), []
    for number, (name, score) in enumerate(activities, start=1):
        name = " ".join((name or "").split())
        if not name:
            errors.append(f"Activity {number} has a score but no name: name the activity.")
            continue
        if len(name) > ACTIVITY_MAX:
            errors.append(f"Activity {number} is longer than {ACTIVITY_MAX} characters: shorten it.")
            continue
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            errors.append(
                f"Score “{name}” with a whole number from 0 (unable) to 10 (able as before the problem)."
            )
            continue
        if activity_key(name) in seen:
            errors.append(f"“{name}” is listed twice: score each activity once.")
            continue
        seen.add(activity_key(name))
        cleaned.append((name, score))
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        raise ValidationError("Name at least one activity the patient has difficulty with, and score it.")
    if len(cleaned) > PSFS_MAX_ACTIVITIES:
        raise ValidationError(f"The PSFS scores at most {PSFS_MAX_ACTIVITIES} activities.")
    return cleaned


def check_outcome_access(patient, user, *, session=None, request=None):
    """Refuse (Refused, 403, audited) anyone but a physiotherapist who may open the patient's chart, and a
    session that is not this patient's or that the user may not read."""
    from patients.privacy import may_open_chart

    from .services import Intent, check_session_access

    reason = None
    if user is None or not user.is_authenticated or not user.has_role(Role.PHYSIO):
        reason = "Only physiotherapists score outcome measures."
    elif not may_open_chart(user, patient.pk):
        reason = "This patient is not on your care team (chart privacy): break the glass first."
    elif session is not None and session.patient_id != patient.pk:
        reason = f"session {session.pk} is not a session of this patient."
    if reason is not None:
        record(
            Action.PERMISSION_DENIED,
            request=request,
            user=user if user and user.is_authenticated else None,
            obj=patient,
            patient_id=patient.pk,
            detail=f"refused: score the PSFS: {reason}"[:1000],
        )
        raise Refused(f"You may not score the PSFS here: {reason}", patient_id=patient.pk, audited=True)
    if session is not None:
        check_session_access(session, user, Intent.READ, request=request)


def record_psfs(*, patient, by, activities, session=None, request=None):
    """Record a PSFS scoring of `activities` [(name, score 0-10)] for the patient, at a session or between
    sessions; returns the OutcomeMeasure. Refuses (403) anyone but a physiotherapist who may open the
    chart, a session of another patient; refuses (ValidationError) an archived patient and what
    check_activities refuses."""
    check_outcome_access(patient, by, session=session, request=request)
    if patient.archived_at is not None:
        raise ValidationError("This patient is archived: restore the patient before recording a score.")
    activities = check_activities(activities)
    with audited_transaction():
        measure = OutcomeMeasure.objects.create(
            patient=patient,
            kind=OutcomeKind.PSFS,
            session=session,
            recorded_by=by,
            score=psfs_score([score for _name, score in activities]),
        )
        OutcomeItem.objects.bulk_create(
            OutcomeItem(measure=measure, order=order, activity=name, score=score)
            for order, (name, score) in enumerate(activities, start=1)
        )
        record(
            Action.CREATE,
            request=request,
            user=by,
            obj=measure,
            patient_id=patient.pk,
            detail=f"PSFS {measure.score} ({len(activities)} activities)"
            + (f" at session {session.pk}" if session else ""),
        )
    return measure


@dataclass(frozen=True)
class Scoring:
    """One PSFS scoring as the course of care draws it: plain values, its items [(activity, score)] in
    the order the patient named them."""

    pk: int
    scored_at: datetime
    score: Decimal
    session_id: int | None
    items: list


# Raw (a constant string, parameters only): the ORM took longer to build the scorings' query and its
# items' prefetch, on every chart, than PostgreSQL took to run them; one round trip instead of two.
PSFS_HISTORY_SQL = """
    SELECT m.id, m.scored_at, m.score, m.session_id,
           ARRAY(SELECT i.activity FROM treatments_outcomeitem i
                 WHERE i.measure_id = m.id ORDER BY i."order"),
           ARRAY(SELECT i.score FROM treatments_outcomeitem i
                 WHERE i.measure_id = m.id ORDER BY i."order")
    FROM treatments_outcomemeasure m
    WHERE m.patient_id = %s AND m.kind = %s
    ORDER BY m.scored_at DESC, m.id DESC
    LIMIT %s"""


def psfs_history(patient_id, limit=None):
    """The patient's PSFS scorings (Scoring), oldest first, each with its items in order; the latest
    `limit` (all without one). One query."""
    with connection.cursor() as cursor:
        cursor.execute(PSFS_HISTORY_SQL, [patient_id, OutcomeKind.PSFS, limit or None])
        rows = cursor.fetchall()
    return [
        Scoring(pk, scored_at, score, session_id, list(zip(activities, scores, strict=True)))
        for pk, scored_at, score, session_id, activities, scores in reversed(rows)
    ]


def last_activities(patient_id):
    """The activities of the patient's last PSFS scoring, word for word, to score again."""
    return list(
        OutcomeItem.objects.filter(
            measure=OutcomeMeasure.objects.filter(patient_id=patient_id, kind=OutcomeKind.PSFS)
            .order_by("-scored_at", "-id")
            .values("pk")[:1]
        )
        .order_by("order")
        .values_list("activity", flat=True)
    )
