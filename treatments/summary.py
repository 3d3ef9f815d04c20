"""What the session screen, the visit summary PDF and "My day" show, each gathered in a fixed number of
queries whatever the number of points, side effects or appointments."""

import textwrap

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.models import RISK_REGIONS, Region
from consent.selectors import consent_status_on_page
from patients.chart import patient_badges

from . import bodychart
from .forms import RemovePointForm
from .models import NeedlingSession, RiskRegion
from .services import missing_for_signing

SHORT_REGION_LABELS = {Region.GENERAL: "General", Region.NECK: "Neck", Region.MID_BACK: "Mid back"}


def consent_rows(patient_id, statuses, short=False):
    """[(region label, RegionStatus)] for the general and risk regions, in a stable order."""
    regions = statuses.get(patient_id, {})
    return [
        (SHORT_REGION_LABELS.get(region, region) if short else Region(region).label, regions[region])
        for region in [Region.GENERAL, *RISK_REGIONS]
        if region in regions
    ]


def body_chart_svg(session, points, link=True):
    """The session's body chart; zones link to "start a point here" while the session is a draft."""
    if not link or session.is_signed:
        return bodychart.render(points)
    base = reverse("treatments:session", args=[session.pk])
    point_form = reverse("treatments:point_form", args=[session.pk])
    return bodychart.render(
        points,
        link=lambda region, side: f"{base}?region={region}&side={side}#points",
        htmx=lambda region, side: f"{point_form}?region={region}&side={side}",
    )


def session_context(session, request=None):
    from .services import screening_at

    points = list(
        session.points.select_related("muscle", "needle_size", "removal", "removal__removed_by").order_by(
            "order"
        )
    )
    for point in points:
        # A point removed as entered in error stays in the record, struck through, but was not needled.
        point.removed = getattr(point, "removal", None)
    needled = [point for point in points if point.removed is None]
    # What the screening says now (a draft) or said when the session was signed.
    screening, found, due, unasked = screening_at(session, session.signed_at)
    acknowledgements = list(session.acknowledgements.select_related("acknowledged_by"))
    acknowledged = {a.item: a for a in acknowledgements}
    statuses = consent_status_on_page([session.patient])
    # Only the session's own clinician gets the forms of a draft (treatments.services.check_session_access);
    # the care team reads it. Whether they may needle now is said by the forms' own refusals.
    user = getattr(request, "user", None)
    editable = not session.is_signed and user is not None and user.pk == session.clinician_id
    may_add_addendum = (
        session.is_signed
        and user is not None
        and user.has_role(Role.PHYSIO)
        and (user.pk == session.clinician_id or user.may_needle())
    )
    return {
        "session": session,
        "patient": session.patient,
        "points": points,
        "needled_points": needled,
        "removed_points": [point for point in points if point.removed is not None],
        "side_effects": list(session.side_effects.select_related("incident")),
        "addenda": list(session.addenda.select_related("author")),
        "screening": screening,
        "screening_due": due,
        "screening_unasked": unasked,
        "flags": screening.flags if screening else [],
        "contraindications": [f for f in found if f.is_contraindication],
        "precautions": [(f, acknowledged.get(f.item)) for f in found if not f.is_contraindication],
        "unacknowledged": [f for f in found if not f.is_contraindication and f.item not in acknowledged],
        "acknowledgements": acknowledgements,
        "consent_rows": consent_rows(session.patient_id, statuses),
        # No point at all without the general risks accepted (consent.selectors.check_region_allowed).
        "needling_allowed": statuses[session.patient_id][Region.GENERAL].allowed,
        "body_chart": body_chart_svg(session, needled, link=editable),
        "missing": [] if session.is_signed else missing_for_signing(session),
        "editable": editable,
        "may_add_addendum": may_add_addendum,
        "is_own_draft": editable,
        "risk_points": any(p.muscle.risk_region != RiskRegion.NONE for p in needled),
        "depth_confirmed": any(p.depth_confirmed for p in needled),
        "remove_form": RemovePointForm(),
    }


# The needle points block of the PDF: (heading, width) of each monospaced column.
POINT_COLUMNS = [
    ("#", 2), ("Muscle", 26), ("Side", 9), ("Seg", 3), ("Needle", 12), ("Depth", 8), ("Ins", 3),
    ("Technique", 17), ("Twitch", 8), ("Response", 24),
]  # fmt: skip


def points_text(points):
    """The points as aligned monospaced lines (one text block is far cheaper for WeasyPrint to lay out
    than a table of cells); a long muscle name wraps onto a continuation line, never truncated."""

    def line(cells):
        return " ".join(
            str(cell).ljust(width) for cell, (_heading, width) in zip(cells, POINT_COLUMNS, strict=True)
        )

    lines = [line(heading for heading, _width in POINT_COLUMNS).rstrip()]
    for point in points:
        name = textwrap.wrap(point.muscle.name, POINT_COLUMNS[1][1]) or [""]
        depth = f"{point.depth_mm.normalize():f} mm" + ("*" if point.depth_confirmed else "")
        cells = [
            point.order, name[0], point.get_side_display(), point.segment or "-", point.needle_size, depth,
            point.insertions, point.technique_short, point.get_twitch_response_display(),
            point.get_patient_response_display(),
        ]  # fmt: skip
        lines.append(line(cells).rstrip())
        lines.extend(line(["", rest] + [""] * 8).rstrip() for rest in name[1:])
    if not points:
        lines.append("No needle points.")
    return "\n".join(lines)


def visit_summary_context(session):
    from appointments.selectors import next_appointment

    context = session_context(session)
    context["body_chart"] = bodychart.render(context["needled_points"], plain=True)
    context["points_text"] = points_text(context["needled_points"])
    profile = getattr(session.clinician, "clinician_profile", None)
    context.update(
        {
            "clinic_name": settings.CLINIC_NAME,
            "profile": profile,
            # The next visit after this one: not this session's own appointment (started early, it would
            # still lie ahead), nor one before this visit ended.
            "next_appointment": next_appointment(
                session.patient,
                after=max(
                    session.started_at,
                    session.appointment.end if session.appointment_id else session.started_at,
                    timezone.now(),
                ),
                exclude=session.appointment_id,
            ),
            "printed_at": timezone.now(),
        }
    )
    return context


def visit_summary_pdf(session, request=None):
    """The visit summary PDF's bytes (the print, and the FHIR export's attachment). DRAFT until signed."""
    from clinic.pdf import render_pdf

    return render_pdf("pdf/visit_summary.html", visit_summary_context(session), request=request)


def my_day_rows(therapist, day):
    """(rows, drafts): today's appointments as dicts with the patient's badges, consent by region and the
    linked session; and the therapist's unsigned sessions. Constant queries whatever the count."""
    from appointments.selectors import appointments_for_therapist_on

    appointments = appointments_for_therapist_on(therapist, day)
    patients = list({a.patient_id: a.patient for a in appointments}.values())
    badges = patient_badges(patients) if patients else {}
    # Asked once for the page: the badges above asked it already (consent_status_on_page).
    statuses = consent_status_on_page(patients) if patients else {}
    sessions = {
        s.appointment_id: s
        for s in NeedlingSession.objects.filter(appointment__in=[a.pk for a in appointments]).only(
            "id", "appointment_id", "signed_at"
        )
    }
    rows = [
        {
            "appointment": a,
            "patient": a.patient,
            "badges": badges.get(a.patient_id, []),
            "consent": consent_rows(a.patient_id, statuses, short=True),
            "session": sessions.get(a.pk),
        }
        for a in appointments
    ]
    drafts = list(
        NeedlingSession.objects.filter(clinician=therapist, signed_at__isnull=True)
        .select_related("patient")
        .order_by("-started_at")[:20]
    )
    return rows, drafts
