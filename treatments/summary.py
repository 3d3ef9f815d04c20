"""What the session screen, the visit summary PDF and "My day" show, each gathered in a fixed number of
queries whatever the number of points, side effects or appointments."""

import base64
import hashlib
import logging
import textwrap

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.models import RISK_REGIONS, Region
from consent.selectors import consent_status_on_page
from patients.chart import patient_badges

from . import bodychart
from .forms import RemovePointForm
from .models import Addendum, NeedlingSession, RiskRegion, VisitSummary
from .selectors import drafts_of, session_points, session_side_effects, sessions_of_appointments
from .services import missing_for_signing

logger = logging.getLogger(__name__)
# What the visit summary reads of a session's relations (treatments.views loads the same for a download).
SUMMARY_RELATED = ("patient", "clinician", "clinician__clinician_profile", "signed_by", "appointment")

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


def session_context(session, request=None, printing=False):
    """What the session screen shows; printing=True (the visit summary) leaves out what only the screen
    uses: its linked body chart, the list of what signing still needs (a query) and the forms."""
    from .services import screening_at

    # With their muscle, needle size and removal: fixed SQL building the objects (treatments/selectors.py).
    points = session_points(session.pk)
    for point in points:
        # A point removed as entered in error stays in the record, struck through, but was not needled.
        point.removed = getattr(point, "removal", None)
    needled = [point for point in points if point.removed is None]
    # What the screening says now (a draft) or said when the session was signed.
    screening, found, due, unasked = screening_at(session, session.signed_at)
    # Acknowledgements answer precautions only: with none found there is nothing to look up.
    precautions_found = [f for f in found if not f.is_contraindication]
    acknowledgements = (
        list(session.acknowledgements.select_related("acknowledged_by")) if precautions_found else []
    )
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
        "side_effects": session_side_effects(session.pk),  # with the incident each opened
        # Addenda are for signed sessions only (services.add_addendum): a draft's are not asked for.
        "addenda": list(session.addenda.select_related("author")) if session.is_signed else [],
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
        "body_chart": None if printing else body_chart_svg(session, needled, link=editable),
        "missing": [] if session.is_signed or printing else missing_for_signing(session, needled),
        "editable": editable,
        "may_add_addendum": may_add_addendum,
        "is_own_draft": editable,
        "risk_points": any(p.muscle.risk_region != RiskRegion.NONE for p in needled),
        "depth_confirmed": any(p.depth_confirmed for p in needled),
        "remove_form": None if printing else RemovePointForm(),
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

    context = session_context(session, printing=True)
    chart = bodychart.render(context["needled_points"], plain=True)
    context["body_chart_base64"] = base64.b64encode(chart.encode()).decode()
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
    """The visit summary PDF's bytes, rendered now (a draft's print, and the FHIR export's attachment).
    DRAFT until signed. A signed session's download is served from storage: stored_visit_summary.
    Rendered without the request, as the stored one is: the template shows nothing of who prints it, and
    the context processors (the navigation menu, the roles) would be built for nothing at every download.
    `request` is accepted for the callers that have one."""
    from clinic.pdf import render_pdf

    return render_pdf("pdf/visit_summary.html", visit_summary_context(session))


def _addenda_now(session_id):
    return (
        Addendum.objects.filter(session_id=session_id)
        .order_by()
        .values("session_id")
        .annotate(n=Count("id"))
        .values("n")
    )


def stored_visit_summary(session):
    """The signed session's stored visit summary showing every addendum written so far (one query); if
    there is none yet (signed before summaries were stored, the worker's render failed or has not run,
    or an addendum came since), it is rendered and stored now. Refuses a draft (ValueError): a draft's
    summary may still change, so it is never stored."""
    if not session.is_signed:
        raise ValueError(f"session {session.pk} is a draft: its summary is rendered, never stored")
    stored = (
        VisitSummary.objects.filter(
            session_id=session.pk, addenda=Coalesce(Subquery(_addenda_now(session.pk)), 0)
        )
        .only("pdf", "sha256", "addenda")
        .first()
    )
    return stored or store_visit_summary(session)


def visit_summary_bytes(session):
    """The visit summary as a patient's record carries it (the FHIR export): a signed session's stored PDF,
    the very bytes its downloads serve and its hash names; a draft's rendered now."""
    if session.is_signed:
        return bytes(stored_visit_summary(session).pdf)
    return visit_summary_pdf(session)


def store_visit_summary(session):
    """Render the signed session's visit summary and store it with its SHA-256, unless one showing the
    same addenda is stored already; the stored row either way. Two renders at once (a download and the
    worker) store one: the later finds the earlier's row and serves that, so every download of a
    version is the same bytes with the same hash. The database refuses a draft, a hash that is not the
    bytes', and a summary that no longer shows every addendum (migration 0014)."""
    # The session as stored, not a caller's instance that may predate its signing.
    session = NeedlingSession.objects.select_related(*SUMMARY_RELATED).get(pk=session.pk)
    if not session.is_signed:
        raise ValueError(f"session {session.pk} is a draft: its summary is rendered, never stored")
    context = visit_summary_context(session)
    from clinic.pdf import render_pdf

    pdf = render_pdf("pdf/visit_summary.html", context)
    addenda = len(context["addenda"])
    with transaction.atomic():
        VisitSummary.objects.bulk_create(
            [
                VisitSummary(
                    session_id=session.pk, addenda=addenda, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest()
                )
            ],
            ignore_conflicts=True,
        )
    stored = VisitSummary.objects.get(session_id=session.pk, addenda=addenda)
    logger.info("visit summary of session %s stored (%s addenda, %d bytes)", session.pk, addenda, len(pdf))
    return stored


def store_visit_summary_on_commit(session):
    """Once the signing (or an addendum) commits, have a worker render and store the session's visit
    summary (treatments.tasks.store_visit_summary_task), so the physiotherapist's first download is served
    from storage without making the signing wait for WeasyPrint. Nothing here can undo the signing: a
    failure to enqueue is logged, and the first download renders the summary instead."""
    session_id = session.pk

    def enqueue():
        from .tasks import store_visit_summary_task

        try:
            store_visit_summary_task.enqueue(session_id)
        except Exception:
            logger.exception("visit summary of session %s not enqueued; a download renders it", session_id)

    transaction.on_commit(enqueue)


def store_missing_visit_summaries(limit=None):
    """Render and store the summary of each signed session that has none showing its addenda yet (the
    sessions signed before summaries were stored): `manage.py store_visit_summaries`. Yields (session,
    error or None); a failed render is reported and the next session is tried."""
    missing = (
        NeedlingSession.objects.filter(signed_at__isnull=False)
        .exclude(
            Exists(
                VisitSummary.objects.filter(
                    session_id=OuterRef("pk"),
                    addenda=Coalesce(
                        Subquery(
                            Addendum.objects.filter(session_id=OuterRef(OuterRef("pk")))
                            .order_by()
                            .values("session_id")
                            .annotate(n=Count("id"))
                            .values("n")
                        ),
                        0,
                    ),
                )
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if limit:
        missing = missing[:limit]
    for pk in list(missing):
        session = NeedlingSession.objects.select_related(*SUMMARY_RELATED).get(pk=pk)
        try:
            store_visit_summary(session)
        except Exception as error:  # noqa: BLE001 (one session's failure must not stop the backfill)
            logger.exception("visit summary of session %s not stored", pk)
            yield session, error
        else:
            yield session, None


def my_day_rows(therapist, day):
    """(rows, drafts): today's appointments as dicts with the patient's badges, consent by region and the
    linked session (a SessionLink); and the therapist's unsigned sessions (DraftSession, newest first).
    Constant queries whatever the count; the sessions read as plain values (treatments.selectors)."""
    from appointments.selectors import appointments_for_therapist_on

    appointments = appointments_for_therapist_on(therapist, day)
    patients = list({a.patient_id: a.patient for a in appointments}.values())
    badges = patient_badges(patients) if patients else {}
    # Asked once for the page: the badges above asked it already (consent_status_on_page).
    statuses = consent_status_on_page(patients) if patients else {}
    sessions = sessions_of_appointments([a.pk for a in appointments])
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
    return rows, drafts_of(therapist, limit=20)
