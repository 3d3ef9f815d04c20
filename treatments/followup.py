"""The follow-up after needling (issue 15): the day after a signed session with neck or mid-back points (or
after every session, with FOLLOW_UP_ALL_SESSIONS), the patient receives an e-mail with a signed, expiring
link (clinic/patient_links.py) to a short form: soreness (NRS 0-10), bruising, and the warning signs of a
pneumothorax (shortness of breath, chest pain, pain on breathing in). Any warning sign tells the patient what
to do now and opens an incident on the session, which alerts its clinician and every manager (banner and
e-mail, treatments/incidents.py). Follow-ups unanswered after 48 hours are listed for the desk to phone.

The e-mail carries no clinical detail: a greeting, the clinic, the link, the phone."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.patient_links import make_token
from outbox.services import queue_email

from .models import FollowUp, Incident, NeedlePoint, NeedlingSession, RiskRegion, Severity

# The purpose of the follow-up's patient links: a token made for the aftercare handout opens no follow-up.
LINK_PURPOSE = "follow-up"
# After this long without an answer, the desk phones the patient.
UNANSWERED_AFTER = timedelta(hours=48)


class AlreadyAnswered(Exception):
    """The follow-up was answered before: answers are given once and never changed."""


def sessions_due(day):
    """The signed sessions whose follow-up goes out on `day` (clinic time): signed the day before, with a
    neck or mid-back point still in the record (every one with FOLLOW_UP_ALL_SESSIONS), whose patient has an
    e-mail address, and that have no follow-up yet."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(
        timezone.datetime.combine(day - timedelta(days=1), timezone.datetime.min.time()), tz
    )
    end = start + timedelta(days=1)
    found = NeedlingSession.objects.filter(signed_at__gte=start, signed_at__lt=end).exclude(patient__email="")
    found = found.filter(follow_up__isnull=True)
    if not settings.FOLLOW_UP_ALL_SESSIONS:
        risky = NeedlePoint.objects.filter(
            session=OuterRef("pk"),
            removal__isnull=True,
            muscle__risk_region__in=[RiskRegion.NECK, RiskRegion.MID_BACK],
        )
        found = found.filter(Exists(risky))
    return found.select_related("patient").order_by("pk")


def link_path(follow_up):
    return reverse("follow-up:form", args=[make_token(LINK_PURPOSE, follow_up.pk)])


def email_message(follow_up):
    """The e-mail to the patient: no clinical detail, only a greeting, the clinic, the link and the phone."""
    patient = follow_up.session.patient
    lines = [
        f"Hello {patient.display_given_name},",
        "",
        f"Thank you for your visit to {settings.CLINIC_NAME} yesterday. Please tell us how you are today: "
        f"it takes a minute, and the link opens for {settings.PATIENT_LINK_DAYS} days:",
        "",
        settings.CLINIC_URL + link_path(follow_up),
        "",
        "If you have any questions, please call us",
    ]
    lines[-1] += f" at {settings.CLINIC_PHONE}." if settings.CLINIC_PHONE else "."
    lines += ["", settings.CLINIC_NAME]
    return EmailMessage(
        subject=f"How are you today? A question from {settings.CLINIC_NAME}",
        body="\n".join(lines) + "\n",
        to=[patient.email],
    )


def send_follow_up(session):
    """Create the session's follow-up and queue its e-mail, once (key `follow-up:<session pk>`). Returns the
    follow-up, or None when the session had one already. Refuses (ValidationError) a draft session and a
    patient without an e-mail address."""
    if session.signed_at is None:
        raise ValidationError("A follow-up goes after a signed session only.")
    if not session.patient.email:
        raise ValidationError("The patient has no e-mail address on file.")
    try:
        with audited_transaction():
            follow_up = FollowUp.objects.create(session=session, sent_at=timezone.now())
            queue_email(
                key=f"follow-up:{session.pk}", message=email_message(follow_up), patient_id=session.patient_id
            )
            record(
                Action.SEND,
                obj=session,
                patient_id=session.patient_id,
                detail="follow-up questionnaire e-mailed",
            )
    except IntegrityError:
        return None  # another worker sent it first
    return follow_up


def send_follow_ups_due(now=None):
    """Send the follow-ups due today (clinic time). Returns how many were sent; idempotent."""
    day = timezone.localdate(now or timezone.now())
    return sum(send_follow_up(session) is not None for session in sessions_due(day))


def answer(
    follow_up, *, soreness, bruising, short_of_breath, chest_pain, pain_breathing_in, comment="", request=None
):
    """Record the patient's answers, once. Refuses (AlreadyAnswered) a follow-up answered before and
    (ValidationError) a soreness outside 0-10 or a comment too long. A warning sign opens an incident on
    the session (severity significant: it needs medical attention), alerting the clinician and every
    manager once the transaction commits."""
    comment = (comment or "").strip()
    errors = {}
    if soreness is None or not 0 <= soreness <= 10:
        errors["soreness"] = "Choose a number from 0 (no soreness) to 10 (the worst imaginable)."
    if bruising is None:
        errors["bruising"] = "Say whether you have any bruising."
    if len(comment) > FollowUp._meta.get_field("comment").max_length:
        errors["comment"] = "Please keep your note shorter, or call us."
    if errors:
        raise ValidationError(errors)
    with audited_transaction():
        locked = FollowUp.objects.select_for_update().select_related("session").get(pk=follow_up.pk)
        if locked.answered_at is not None:
            raise AlreadyAnswered()
        now = timezone.now()
        FollowUp.objects.filter(pk=locked.pk).update(
            answered_at=now,
            soreness=soreness,
            bruising=bruising,
            short_of_breath=short_of_breath,
            chest_pain=chest_pain,
            pain_breathing_in=pain_breathing_in,
            comment=comment,
        )
        locked.refresh_from_db()
        signs = locked.warning_signs
        record(
            Action.CREATE,
            request=request,
            obj=locked.session,
            patient_id=locked.session.patient_id,
            detail="follow-up answered by the patient"
            + (f": warning signs ({', '.join(signs)})" if signs else ""),
        )
        if signs:
            session = locked.session
            incident = Incident.objects.create(
                follow_up=locked,
                session=session,
                patient_id=session.patient_id,
                clinician_id=session.clinician_id,
                severity=Severity.SIGNIFICANT,
                opened_at=now,
            )
            record(
                Action.CREATE,
                request=request,
                obj=incident,
                patient_id=session.patient_id,
                detail=f"incident opened: warning signs reported at follow-up ({', '.join(signs)})",
            )
            from .incidents import send_alert

            pk = incident.pk
            transaction.on_commit(lambda: send_alert(pk))
    return locked


def unanswered(now=None):
    """The follow-ups not answered 48 hours after they were sent and not yet phoned, oldest first, with
    the patient (for the desk's calls). One query."""
    now = now or timezone.now()
    return list(
        FollowUp.objects.filter(
            answered_at__isnull=True, phoned_at__isnull=True, sent_at__lte=now - UNANSWERED_AFTER
        )
        .select_related("session__patient")
        .order_by("sent_at")
    )


def mark_phoned(follow_up, *, by, note, request=None):
    """Record that the desk phoned the patient about an unanswered follow-up, with a note. Refuses
    (ValidationError) an empty note and a follow-up already phoned."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what came of the call (reached, message left, no answer)."})
    if len(note) > 300:
        raise ValidationError({"note": "Keep the note under 300 characters."})
    with audited_transaction():
        if not FollowUp.objects.filter(pk=follow_up.pk, phoned_at__isnull=True).update(
            phoned_at=timezone.now(), phoned_by=by, phoned_note=note
        ):
            raise ValidationError("This follow-up was already marked phoned.")
        record(
            Action.UPDATE,
            request=request,
            user=by,
            obj=follow_up.session,
            patient_id=follow_up.session.patient_id,
            detail="unanswered follow-up: patient phoned",
        )
