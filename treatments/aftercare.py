"""The aftercare handout (issue 15): one page in plain words for the patient, apart from the clinical visit
summary, which a patient found hard to read (technique names, muscles in Latin, a SHA-256). It says what was
done in words, what is normal and for how long, what helps, the warning signs and what to do, the clinic's
address and phone, and the next appointment.

The clinician prints it at signing, or the patient receives it by e-mail: a signed link that opens for
PATIENT_LINK_DAYS days (clinic/patient_links.py), or the PDF attached. The e-mail's body carries no clinical
detail (no muscle, region or point): only a greeting, the clinic, the link or "attached", the phone."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import models
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.patient_links import make_token
from outbox.services import queue_email
from patients.models import BodyRegion

from .models import RiskRegion, Side

# The purpose of the handout's patient links (clinic.patient_links): a token for it opens nothing else.
LINK_PURPOSE = "aftercare"

# Where the needles went, in the words a patient uses (no muscle names).
PLAIN_REGIONS = {
    BodyRegion.FACE_JAW: "jaw and face",
    BodyRegion.NECK_ANTERIOR: "front of the neck",
    BodyRegion.NECK_POSTERIOR: "neck",
    BodyRegion.SHOULDER_FRONT: "front of the shoulder",
    BodyRegion.SHOULDER_BACK: "shoulder blade",
    BodyRegion.CHEST: "chest",
    BodyRegion.UPPER_BACK: "upper back",
    BodyRegion.LOWER_BACK: "lower back",
    BodyRegion.ABDOMEN: "belly",
    BodyRegion.UPPER_ARM_FRONT: "upper arm",
    BodyRegion.UPPER_ARM_BACK: "upper arm",
    BodyRegion.FOREARM_FRONT: "forearm",
    BodyRegion.FOREARM_BACK: "forearm and hand",
    BodyRegion.HIP_FRONT: "front of the hip",
    BodyRegion.BUTTOCK: "buttock",
    BodyRegion.THIGH_FRONT: "front of the thigh",
    BodyRegion.THIGH_BACK: "back of the thigh",
    BodyRegion.LEG_FRONT: "shin",
    BodyRegion.CALF: "calf",
}
# The clinician's own aftercare advice is printed when it fits the page with everything else; longer notes
# (the field takes 10,000 characters) would push the warning signs onto a second sheet, so the handout
# then says to ask for them (they are on the visit summary).
NOTES_FIT = 600
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


class HandoutChoice(models.TextChoices):
    """What the clinician does with the handout when signing."""

    PRINT = "print", "Print"
    LINK = "link", "E-mail to patient (link)"
    ATTACH = "attach", "E-mail as attachment"
    NONE = "none", "Not now"


EMAILED = {HandoutChoice.LINK, HandoutChoice.ATTACH}


def _join(words):
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def what_was_done(points):
    """One sentence: how many fine needles, in which parts of the body, on which side."""
    if not points:
        return "No needles were placed today."
    count = len(points)
    places = []
    for point in points:
        place = PLAIN_REGIONS.get(point.muscle.body_region, "muscles")
        if place not in places:
            places.append(place)
    sides = {point.side for point in points}
    if Side.BILATERAL in sides or sides >= {Side.LEFT, Side.RIGHT}:
        side = "on both sides"
    else:
        side = "on the left side" if sides == {Side.LEFT} else "on the right side"
    number = NUMBERS[count] if count < len(NUMBERS) else str(count)
    needles = "fine needle" if count == 1 else "fine needles"
    return f"We placed {number} {needles} in the muscles of your {_join(places)}, {side}."


def handout_context(session):
    """What the handout shows, gathered in a fixed number of queries whatever the number of points."""
    from appointments.selectors import next_appointment

    points = list(session.points.filter(removal__isnull=True).select_related("muscle").order_by("order"))
    risk = any(point.muscle.risk_region != RiskRegion.NONE for point in points)
    return {
        "session": session,
        "patient": session.patient,
        "what_was_done": what_was_done(points),
        "chest_risk": risk or session.aftercare_warning_signs,
        "notes": session.aftercare_notes.strip(),
        "notes_fit": len(session.aftercare_notes.strip()) <= NOTES_FIT,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_address": settings.CLINIC_ADDRESS,
        "clinic_phone": settings.CLINIC_PHONE,
        "next_appointment": next_appointment(
            session.patient,
            after=max(
                session.started_at,
                session.appointment.end if session.appointment_id else session.started_at,
                timezone.now(),
            ),
            exclude=session.appointment_id,
        ),
    }


def handout_pdf(session):
    """The handout's PDF bytes: one page."""
    from clinic.pdf import render_pdf

    return render_pdf("pdf/aftercare.html", handout_context(session))


def handout_filename(session):
    return f"aftercare-{timezone.localtime(session.started_at):%Y-%m-%d}.pdf"


def link_path(session):
    """The patient's link to the handout (a path: the caller makes it absolute)."""
    return reverse("aftercare:handout", args=[make_token(LINK_PURPOSE, session.pk)])


def email_message(session, *, choice, link_url=None):
    """The e-mail to the patient: no clinical detail in its body, the handout behind the link or attached."""
    patient = session.patient
    lines = [f"Hello {patient.display_given_name},", ""]
    if choice == HandoutChoice.LINK:
        lines += [
            f"Thank you for your visit to {settings.CLINIC_NAME} today. Your aftercare handout is at this "
            f"link, which opens for {settings.PATIENT_LINK_DAYS} days:",
            "",
            link_url,
        ]
    else:
        lines.append(
            f"Thank you for your visit to {settings.CLINIC_NAME} today. Your aftercare handout is attached."
        )
    lines += ["", "If you have any questions, please call us"]
    lines[-1] += f" at {settings.CLINIC_PHONE}." if settings.CLINIC_PHONE else "."
    lines += ["", settings.CLINIC_NAME]
    message = EmailMessage(
        subject=f"Your aftercare handout from {settings.CLINIC_NAME}",
        body="\n".join(lines) + "\n",
        to=[patient.email],
    )
    if choice == HandoutChoice.ATTACH:
        message.attach(handout_filename(session), handout_pdf(session), "application/pdf")
    return message


def send_handout(session, *, choice, by, link_url=None, request=None, again=None):
    """E-mail the handout of a signed session to its patient: as a link (`link_url`, absolute) or attached.
    Once, whether at signing or later from the session (the outbox key is the session's), unless `again`
    names a resend (the patient asked for it again; the id of the page it was asked from): then once per
    resend, so the same page posted twice still sends it once. Refuses (ValidationError) a draft, a patient
    without an e-mail and a choice that sends nothing. Returns True when this call queued the e-mail."""
    if choice not in EMAILED:
        raise ValidationError(f"{choice!r} does not e-mail the handout.")
    if not session.is_signed:
        raise ValidationError("The aftercare handout is e-mailed once the session is signed.")
    if not session.patient.email:
        raise ValidationError("The patient has no e-mail address on file: print the handout instead.")
    key = f"aftercare:{session.pk}"
    with audited_transaction():
        if again:
            key = f"{key}:again:{again}"
        queued = queue_email(
            key=key,
            message=email_message(session, choice=choice, link_url=link_url),
            patient_id=session.patient_id,
        )
        if queued is not None:
            record(
                Action.SEND,
                request=request,
                user=by,
                obj=session,
                patient_id=session.patient_id,
                detail=f"aftercare handout e-mailed ({HandoutChoice(choice).label.lower()})"
                + (", again at the patient's request" if again else ""),
            )
    return queued is not None


def last_sent(session):
    """When the handout of `session` was last queued for its patient, or None."""
    from outbox.models import OutboundEmail

    key = f"aftercare:{session.pk}"
    return (
        OutboundEmail.objects.filter(models.Q(key=key) | models.Q(key__startswith=f"{key}:"))
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
