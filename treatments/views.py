"""The physiotherapist's session screen (htmx rows for points and side effects, the body chart, signing,
addenda), the visit summary PDF and "My day". Views parse, call treatments.services, and render."""

import base64
from functools import partial
from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import public, role_required
from accounts.models import Role
from audit.models import Action
from audit.services import record
from clinic.patient_links import LinkRefused, read_token, refused_response
from clinic.pdf import pdf_response
from patients.badges import badges_renderer
from patients.models import Patient

from . import aftercare, incidents, outcomes, repeat, services
from .forms import (
    AddendumForm,
    AssessmentForm,
    CloseIncidentForm,
    HandoutEmailForm,
    IncidentEntryForm,
    PointForm,
    PSFSForm,
    RemovePointForm,
    SideEffectForm,
    SignForm,
)
from .models import BodyRegion, Incident, NeedlePoint, NeedlingSession, SessionSigned
from .selectors import point_catalogue, screen_session
from .summary import (
    SUMMARY_RELATED,
    my_day_rows,
    session_context,
    stored_visit_summary,
    visit_summary_pdf,
)

CLINICAL = (Role.PHYSIO, Role.ADMIN)


def _session(pk):
    return get_object_or_404(NeedlingSession.objects.select_related(*SUMMARY_RELATED), pk=pk)


def _screen_session(pk):
    """The session with what the session screen shows of its relations (treatments.selectors.screen_session:
    not the clinician's profile nor the appointment, which only the visit summary prints; each joined
    table cost PostgreSQL's planner more than reading its row). 404 when there is none."""
    session = screen_session(pk)
    if session is None:
        raise Http404("No such session.")
    return session


def _point_form(request, session, data=None, region=None, side=None):
    """A fresh point form: the side only when a side of the body chart was clicked, the needle size
    carried over from the clinician's last point and shown as such."""
    initial = {"side": side} if side else {}
    if data is not None:
        return PointForm(data, region=region, initial=initial)
    # The muscles, the needle sizes and the clinician's last needle size in one query.
    catalogue = point_catalogue(region=region, clinician_id=session.clinician_id)
    return PointForm(
        region=region, initial=initial, carried_needle=catalogue.last_needle_size, catalogue=catalogue
    )


def _points_section(request, session, form=None, status=200, region=None):
    """The points partial (table, body chart out of band, and the add-point form). `region`: the body
    chart region a refused form was narrowed to, so it comes back narrowed with its "all muscles" link."""
    context = session_context(session, request)
    context["point_form"] = form or _point_form(request, session)
    context["region"] = region if form is not None else None
    return render(request, "treatments/_points.html", context, status=status)


@role_required(*CLINICAL)
def session_detail(request, pk):
    """The session screen: flags and consent at the top, assessment, points, side effects, signing. The
    care team reads any session, drafts included; only its own clinician gets the forms."""
    session = _screen_session(pk)
    services.check_session_access(session, request.user, services.Intent.READ, request=request)
    record(
        Action.VIEW, request=request, obj=session, patient_id=session.patient_id, detail="needling session"
    )
    region = request.GET.get("region") if request.GET.get("region") in BodyRegion.values else None
    side = request.GET.get("side") if request.GET.get("side") in ("L", "R") else None
    context = session_context(session, request)
    context.update(
        {
            "assessment_form": AssessmentForm(instance=session),
            "point_form": _point_form(request, session, region=region, side=side),
            "side_effect_form": SideEffectForm(),
            "addendum_form": AddendumForm(),
            "sign_form": SignForm(patient=session.patient),
            "region": region,
            # Names this page's "send the handout again", so a double click sends it once.
            "resend_id": uuid4(),
        }
    )
    context.update(_repeat_context(request, session, context))
    return render(request, "treatments/session.html", context)


def _repeat_context(request, session, context):
    """The "Repeat last session" offer (the own draft with no needled point yet, and a signed session
    before it) and what the last repeat into this draft refused (kept in the user's session)."""
    offer = None
    if context["editable"] and not context["needled_points"]:
        offer = repeat.previous_session(session)
    stored = request.session.get(REPEATED_KEY, {}).get(str(session.pk)) if not session.is_signed else None
    return {"repeat_source": offer, "repeated": stored}


REPEATED_KEY = "treatments_repeated"


def _remember_repeat(request, session, outcome):
    """Keep what a repeat did for the draft's screen (it lists the refused points while it is a draft)."""
    remembered = request.session.get(REPEATED_KEY, {})
    remembered[str(session.pk)] = outcome.as_stored()
    request.session[REPEATED_KEY] = remembered
    added, refused = len(outcome.added), len(outcome.refused)
    day = outcome.as_stored()["source_day"]
    text = f"Repeated the session of {day}: {added} point{'s' if added != 1 else ''} added"
    if refused:
        messages.warning(request, f"{text}, {refused} refused (listed with the reason).")
    else:
        messages.success(request, f"{text}.")


@role_required(Role.PHYSIO)
@require_POST
def session_start(request, patient_pk):
    """Start a session for a patient from the chart."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    try:
        if request.POST.get("repeat"):
            session, outcome = repeat.start_repeating(
                patient=patient, clinician=request.user, request=request
            )
            _remember_repeat(request, session, outcome)
        else:
            session = services.start_session(patient=patient, clinician=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if getattr(error, "session", None) is not None:
            return redirect("treatments:session", pk=error.session.pk)
        return redirect("patients:chart", pk=patient.pk)
    return redirect("treatments:session", pk=session.pk)


@role_required(Role.PHYSIO)
def psfs(request, patient_pk):
    """Score the Patient-Specific Functional Scale with the patient, at a session (?session=<pk>) or
    between sessions; the activities of the last scoring are offered again, word for word."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    session_pk = request.POST.get("session") or request.GET.get("session") or ""
    session = None
    if session_pk:
        if not session_pk.isdigit():
            raise Http404("No such session.")
        session = get_object_or_404(NeedlingSession, pk=int(session_pk))
    outcomes.check_outcome_access(patient, request.user, session=session, request=request)
    activities = outcomes.last_activities(patient.pk)
    form = PSFSForm(request.POST if request.method == "POST" else None, activities=activities)
    if request.method == "POST" and form.is_valid():
        try:
            measure = outcomes.record_psfs(
                patient=patient, by=request.user, activities=form.activities, session=session, request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"PSFS recorded: {measure.score} (mean of {measure.items.count()}).")
            if session is not None:
                return redirect("treatments:session", pk=session.pk)
            return redirect(reverse("patients:chart", args=[patient.pk]) + "#course-of-care")
    context = {"patient": patient, "form": form, "session": session, "repeating": bool(activities)}
    status = 422 if request.method == "POST" else 200
    return render(request, "treatments/psfs.html", context, status=status)


@role_required(Role.PHYSIO)
@require_POST
def session_repeat(request, pk):
    """Repeat the patient's last signed session (or the one named in `source`) into this draft."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.NEEDLE, request=request)
    source_pk = request.POST.get("source", "")
    if source_pk:
        if not source_pk.isdigit():
            messages.error(request, "Choose the session to repeat.")
            return redirect("treatments:session", pk=pk)
        source = get_object_or_404(NeedlingSession, pk=int(source_pk))
    else:
        source = repeat.previous_session(session)
    try:
        outcome = repeat.repeat_session(session, source=source, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        _remember_repeat(request, session, outcome)
    return redirect(reverse("treatments:session", args=[pk]) + "#points")


@role_required(Role.PHYSIO)
@require_POST
def session_save(request, pk):
    """Save the assessment form of a draft, refusing a stale version (someone saved in between)."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.WRITE, request=request)
    form = AssessmentForm(request.POST, instance=NeedlingSession.objects.get(pk=pk))
    if form.is_valid():
        try:
            services.save_draft(
                session,
                form.changes(),
                expected_version=form.cleaned_data["version"],
                by=request.user,
                request=request,
            )
        except SessionSigned as error:
            messages.error(request, error.messages[0])
            return redirect("treatments:session", pk=pk)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Session saved.")
            return redirect(reverse("treatments:session", args=[pk]) + "#assessment")
    context = session_context(session, request)
    context.update(
        {
            "assessment_form": form,
            "point_form": _point_form(request, session),
            "side_effect_form": SideEffectForm(),
            "addendum_form": AddendumForm(),
        }
    )
    return render(request, "treatments/session.html", context, status=200 if not form.errors else 422)


@role_required(Role.PHYSIO)
def point_form(request, pk):
    """A fresh add-point form, narrowed to a body chart region (htmx, from a click on the chart)."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.WRITE, request=request)
    region = request.GET.get("region") if request.GET.get("region") in BodyRegion.values else None
    side = request.GET.get("side") if request.GET.get("side") in ("L", "R") else None
    form = _point_form(request, session, region=region, side=side)
    return render(
        request, "treatments/_point_form.html", {"session": session, "point_form": form, "region": region}
    )


@role_required(Role.PHYSIO)
@require_POST
def point_add(request, pk):
    """Add a needle point row; htmx gets the points section back, a plain POST the whole page."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.NEEDLE, request=request)
    region = request.POST.get("region") if request.POST.get("region") in BodyRegion.values else None
    form = _post_point(
        request, PointForm(request.POST, region=region), partial(services.add_point, session), "not saved"
    )
    if not request.htmx:
        return redirect(reverse("treatments:session", args=[pk]) + "#points")
    return _points_section(request, session, form=form, status=200, region=region)


@role_required(Role.PHYSIO)
def point_edit(request, pk, point_pk):
    """Correct a point of a draft in place (htmx): GET the filled form, POST it through update_point."""
    session = _session(pk)
    services.check_session_access(
        session,
        request.user,
        services.Intent.NEEDLE if request.method == "POST" else services.Intent.WRITE,
        request=request,
    )
    point = get_object_or_404(NeedlePoint.objects.select_related("muscle"), pk=point_pk, session=session)
    if NeedlePoint.objects.filter(pk=point.pk, removal__isnull=False).exists():
        messages.error(
            request, f"Point {point.order} was removed (entered in error); add a new point instead."
        )
        return redirect(reverse("treatments:session", args=[pk]) + "#points")
    if request.method == "POST":
        form = _post_point(
            request,
            PointForm(request.POST, instance=NeedlePoint.objects.get(pk=point.pk)),
            partial(services.update_point, point),
            "not changed",
        )
        if not request.htmx:
            return redirect(reverse("treatments:session", args=[pk]) + "#points")
        if form is None:
            return _points_section(request, session)
    else:
        form = PointForm(instance=point)
    return render(
        request, "treatments/_point_form.html", {"session": session, "point_form": form, "editing": point}
    )


@role_required(Role.PHYSIO)
@require_POST
def point_remove(request, pk, point_pk):
    """Remove a point entered in error on a draft, with a reason (kept, struck through, not counted)."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.WRITE, request=request)
    point = get_object_or_404(NeedlePoint, pk=point_pk, session=session)
    form = RemovePointForm(request.POST)
    if form.is_valid():
        try:
            services.remove_point(point, by=request.user, reason=form.cleaned_data["reason"], request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Point {point.order} removed (entered in error); it stays struck through."
            )
    else:
        messages.error(request, " ".join(_messages(form)))
    if request.htmx:
        return _points_section(request, session)
    return redirect(reverse("treatments:session", args=[pk]) + "#points")


@role_required(Role.PHYSIO)
@require_POST
def acknowledge(request, pk):
    """The clinician acknowledges, for this session, precautions found at screening."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.WRITE, request=request)
    try:
        added = services.acknowledge_precautions(
            session, by=request.user, items=request.POST.getlist("item"), request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if added:
            names = ", ".join(a.get_item_display() for a in added)
            messages.success(request, f"Acknowledged for this session: {names}.")
    return redirect(reverse("treatments:session", args=[pk]) + "#safety")


@role_required(Role.PHYSIO)
@require_POST
def side_effect_add(request, pk):
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.NEEDLE, request=request)
    form = SideEffectForm(request.POST)
    if form.is_valid():
        try:
            services.add_side_effect(
                session,
                by=request.user,
                request=request,
                **{name: form.cleaned_data[name] for name in services.SIDE_EFFECT_FIELDS},
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            form = SideEffectForm()
    if not request.htmx:
        if form.errors:
            messages.error(request, "The side effect was not saved: " + " ".join(_messages(form)))
        return redirect(reverse("treatments:session", args=[pk]) + "#side-effects")
    context = session_context(session, request)
    context["side_effect_form"] = form
    return render(request, "treatments/_side_effects.html", context)


@role_required(Role.PHYSIO)
@require_POST
def session_sign(request, pk):
    """Sign the session, then do what the clinician chose with the aftercare handout: open it to print,
    e-mail it to the patient (a signed link, or attached), or nothing now."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.SIGN, request=request)
    form = SignForm(request.POST, patient=session.patient)
    if not form.is_valid():
        for text in _messages(form):
            messages.error(request, text)
        return redirect(reverse("treatments:session", args=[pk]) + "#sign")
    try:
        signed = services.sign_session(session, by=request.user, request=request)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect("treatments:session", pk=pk)
    messages.success(request, "Session signed. It is now read-only; corrections are addenda.")
    choice = form.cleaned_data["handout"]
    if choice == aftercare.HandoutChoice.PRINT:
        return redirect("treatments:aftercare", pk=pk)
    if choice in aftercare.EMAILED:
        link = request.build_absolute_uri(aftercare.link_path(signed))
        try:
            if aftercare.send_handout(signed, choice=choice, by=request.user, link_url=link, request=request):
                messages.success(request, f"The aftercare handout is on its way to {signed.patient.email}.")
            else:
                messages.info(request, "The aftercare handout had already been e-mailed.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("treatments:session", pk=pk)


@role_required(*CLINICAL)
@require_POST
def aftercare_send(request, pk):
    """E-mail the aftercare handout after signing (the clinician chose "Not now" or printed it, or the
    patient asks for it again): the visit summary's readers, like printing it."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.READ, request=request)
    form = HandoutEmailForm(request.POST)
    if not form.is_valid():
        for text in _messages(form):
            messages.error(request, text)
        return redirect(reverse("treatments:session", args=[pk]) + "#aftercare")
    choice, again = form.cleaned_data["handout"], form.cleaned_data["again"]
    link = request.build_absolute_uri(aftercare.link_path(session))
    try:
        queued = aftercare.send_handout(
            session,
            choice=choice,
            by=request.user,
            link_url=link,
            request=request,
            again=form.cleaned_data["resend_id"] if again else None,
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect(reverse("treatments:session", args=[pk]) + "#aftercare")
    if queued:
        messages.success(request, f"The aftercare handout is on its way to {session.patient.email}.")
    else:
        sent = aftercare.last_sent(session)
        messages.info(
            request,
            f"The aftercare handout was e-mailed on {timezone.localtime(sent):%Y-%m-%d %H:%M}. "
            "To send it again, tick “Send it again” (the patient asked for it).",
        )
    return redirect(reverse("treatments:session", args=[pk]) + "#aftercare")


@role_required(*CLINICAL)
def aftercare_pdf(request, pk):
    """The patient's aftercare handout, for the clinician to print; the visit summary's readers, audited."""
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.READ, request=request)
    pdf = aftercare.handout_pdf(session)
    record(
        Action.PRINT, request=request, obj=session, patient_id=session.patient_id, detail="aftercare handout"
    )
    return pdf_response(pdf, aftercare.handout_filename(session), inline=True)


@public
@never_cache
def aftercare_link(request, token):
    """The handout behind the patient's e-mailed link: no login, one signed session only. An expired,
    altered or unknown link answers the same plain page (410), which says nothing of whether the patient
    or the session exists."""
    try:
        pk = read_token(aftercare.LINK_PURPOSE, token)
    except LinkRefused:
        return refused_response(request)
    session = (
        NeedlingSession.objects.select_related("patient", "appointment")
        .filter(pk=pk, signed_at__isnull=False)
        .first()
    )
    if session is None:
        return refused_response(request)
    pdf = aftercare.handout_pdf(session)
    record(
        Action.VIEW,
        request=request,
        obj=session,
        patient_id=session.patient_id,
        detail="aftercare handout opened from the patient's link",
    )
    return pdf_response(pdf, aftercare.handout_filename(session), inline=True)


@role_required(Role.PHYSIO)
@require_POST
def addendum_add(request, pk):
    session = _session(pk)
    services.check_session_access(session, request.user, services.Intent.ADDENDUM, request=request)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.add_addendum(session, by=request.user, text=form.cleaned_data["text"], request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Addendum added.")
    else:
        messages.error(request, " ".join(_messages(form)))
    return redirect(reverse("treatments:session", args=[pk]) + "#addenda")


@role_required(*CLINICAL)
def session_pdf(request, pk):
    """The visit summary PDF; every download audited. A signed session's is the stored one (rendered once,
    treatments.summary.stored_visit_summary), served with its SHA-256; a draft's is rendered each time.
    The session is read with its patient only, which is all a signed one's download needs (its stored
    PDF holds the rest). Joining the clinician, their profile, the signer and the appointment that a
    render shows took about 2 ms more CPU of a signed download's 13 ms, Django building the joined
    query and its objects (issue 17). A draft reads them in one more query, once access is granted."""
    session = get_object_or_404(NeedlingSession.objects.select_related("patient"), pk=pk)
    services.check_session_access(session, request.user, services.Intent.READ, request=request)
    if not session.is_signed:
        # As it is now, with what its summary shows (if it was signed meanwhile, its stored summary).
        session = NeedlingSession.objects.select_related(*SUMMARY_RELATED).get(pk=pk)
    if session.is_signed:
        stored = stored_visit_summary(session)
        pdf, digest = bytes(stored.pdf), stored.sha256
        detail = f"visit summary PDF; sha256 {digest[:16]}"
    else:
        pdf, digest = visit_summary_pdf(session, request=request), None
        detail = "visit summary PDF (draft)"
    record(Action.PRINT, request=request, obj=session, patient_id=session.patient_id, detail=detail)
    day = timezone.localtime(session.started_at)
    response = pdf_response(
        pdf, f"visit-summary-{session.patient.chart_number}-{day:%Y-%m-%d}-{session.pk}.pdf"
    )
    if digest:
        # The stored bytes' hash (RFC 9530), so a copy can be checked against the record later.
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        response["ETag"] = f'"{digest}"'
    return response


@role_required(Role.PHYSIO, Role.MANAGER, Role.ADMIN)
def incident_detail(request, pk):
    """An incident: the side effect and its session, the follow-up so far, and (while open) the forms to
    record an action or a follow-up contact and to close it. Audited as a view of the chart."""
    incident = get_object_or_404(
        Incident.objects.select_related(
            "side_effect", "follow_up", "session", "patient", "clinician", "closed_by"
        ),
        pk=pk,
    )
    incidents.check_incident_access(incident, request.user, incidents.IncidentIntent.READ, request=request)
    entry_form, close_form = IncidentEntryForm(), CloseIncidentForm()
    if request.method == "POST":
        action = request.POST.get("action")
        intent = incidents.IncidentIntent.CLOSE if action == "close" else incidents.IncidentIntent.RECORD
        incidents.check_incident_access(incident, request.user, intent, request=request)
        try:
            if action == "close":
                close_form = CloseIncidentForm(request.POST)
                if close_form.is_valid():
                    incidents.close_incident(
                        incident, by=request.user, note=close_form.cleaned_data["note"], request=request
                    )
                    messages.success(request, "Incident closed.")
                    return redirect("treatments:incident", pk=pk)
            else:
                entry_form = IncidentEntryForm(request.POST)
                if entry_form.is_valid():
                    incidents.record_entry(
                        incident, by=request.user, request=request, **entry_form.cleaned_data
                    )
                    messages.success(request, "Recorded.")
                    return redirect("treatments:incident", pk=pk)
        except ValidationError as error:
            _add_errors(close_form if action == "close" else entry_form, error)
    else:
        record(Action.VIEW, request=request, obj=incident, patient_id=incident.patient_id, detail="incident")
        if incident.alerted_at is None and incident.is_open:
            incidents.send_alert(incident.pk)  # an alert never queued (a process stopped first) goes now
    context = {
        "incident": incident,
        "entries": list(incident.entries.select_related("recorded_by")),
        "entry_form": entry_form,
        "close_form": close_form,
        "may_record": request.user.has_role(Role.PHYSIO, Role.MANAGER) and incident.is_open,
        "may_close": incident.is_open
        and (request.user.has_role(Role.MANAGER) or request.user.pk == incident.clinician_id),
        "clinical": request.user.is_clinical,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "treatments/incident.html", context, status=status)


@role_required(Role.PHYSIO)
def my_day(request):
    """Today's appointments of the logged-in physiotherapist with status, flags and consent."""
    from appointments.calendar import status_badges
    from clinic.reversing import url_for_id

    day = timezone.localdate()
    rows, drafts = my_day_rows(request.user, day)
    # Each row's badges as HTML, every different one rendered once for the page (most rows share their
    # status, flags and consent states): included once per row, these templates were most of the page's
    # rendering time (issue 17).
    status_badge = status_badges()
    flags = badges_renderer()
    consent = _rendered_once(
        "consent/_status_badge.html",
        # What the badge shows of the status (not its record, which differs for every patient).
        lambda label, status: (label, status.region, status.state, status.label, status.colour),
    )
    # And its links and times, each address reversed once for the page rather than once per row.
    chart_url = url_for_id("patients:chart")
    session_url = url_for_id("treatments:session")
    start_url = url_for_id("treatments:start_from_appointment")
    for row in rows:
        appointment = row["appointment"]
        row["times"] = (
            f"{timezone.localtime(appointment.start):%H:%M}–{timezone.localtime(appointment.end):%H:%M}"
        )
        row["chart_url"] = chart_url(row["patient"].pk)
        row["session_url"] = session_url(row["session"].pk) if row["session"] else ""
        row["start_url"] = start_url(appointment.pk)
        row["status_badge"] = status_badge(appointment.status)
        row["flags"] = flags(row["badges"])
        row["consent_badges"] = mark_safe(  # noqa: S308 (rendered templates, escaped there)
            "".join(consent(label=label, status=status) for label, status in row["consent"])
        )
    template = "treatments/_my_day.html" if request.htmx else "treatments/my_day.html"
    context = {
        "rows": rows,
        "drafts": [(draft, session_url(draft.pk)) for draft in drafts],
        "day": day,
        "incidents": incidents.open_incidents_for(request.user),
    }
    return render(request, template, context)


def _rendered_once(template_name, key):
    """A function rendering `template_name` with its keyword arguments as the context, each different
    context (by `key` of the same arguments) rendered once and then reused within the request."""
    template = get_template(template_name)
    rendered = {}

    def render_with(**context):
        found = key(**context)
        if found not in rendered:
            rendered[found] = template.render(context)
        return rendered[found]

    return render_with


@role_required(Role.PHYSIO)
@require_POST
def start_from_appointment(request, appointment_pk):
    """Start (or reopen) the session of an appointment and mark the appointment in treatment."""
    from appointments.models import Appointment

    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=appointment_pk)
    try:
        session = services.start_session_from_appointment(appointment, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("treatments:my_day")
    return redirect("treatments:session", pk=session.pk)


def _post_point(request, form, save, outcome):
    """The one POST handling of the add-point and edit-point forms: a valid form goes through `save`
    (add_point or update_point, the session or point already bound); None when it saved, else the form
    with the field or service refusal on it. A plain POST (no htmx) is told the refusal as a message:
    "The point was <outcome>: ..."."""
    if form.is_valid():
        try:
            save(
                by=request.user,
                request=request,
                **{name: form.cleaned_data[name] for name in services.POINT_FIELDS},
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            return None
    if not request.htmx:
        messages.error(request, f"The point was {outcome}: " + " ".join(_messages(form)))
    return form


def _add_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _messages(form):
    return [text for errors in form.errors.values() for text in errors]
