from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from audit.models import Action, AuditEvent
from audit.services import record

from . import services
from .badges import badges_renderer
from .chart import chart_panels, patient_badges, recent_screenings, render_panels
from .forms import BreakGlassForm, PatientForm, ScreeningForm
from .models import Patient

REGISTRY = (Role.PHYSIO, Role.FRONT_DESK, Role.ADMIN)
CLINICAL = (Role.PHYSIO, Role.ADMIN)
RECENT_ACTIVITY = 15


@role_required(*REGISTRY)
def patient_list(request):
    """The one search box; htmx asks for the results partial as the front desk types."""
    text = request.GET.get("q", "").strip()
    include_archived = request.GET.get("archived") == "1"
    search = services.find_patients(text, include_archived=include_archived)
    patients = search.patients
    badges = patient_badges(patients)
    # As the front desk types, every keystroke renders this list: the chart's address is reversed once,
    # and each different badge rendered once (most patients share theirs).
    chart_url = reverse("patients:chart", args=[0]).removesuffix("0/")
    badges_html = badges_renderer()

    context = {
        "q": text,
        "include_archived": include_archived,
        "close_matches": search.close_matches,
        "problem": search.problem,
        "rows": [
            (patient, f"{chart_url}{patient.pk}/", badges_html(badges.get(patient.pk, [])))
            for patient in patients
        ],
        "limit": services.SEARCH_LIMIT,
        "searched": bool(text),
    }
    if request.htmx:
        return render(request, "patients/_results.html", context)
    return render(request, "patients/patient_list.html", context)


@role_required(*REGISTRY)
def patient_register(request):
    duplicates = []
    if request.method == "POST":
        form = PatientForm(request.POST, show_register_anyway="register_anyway" in request.POST)
        if form.is_valid():
            try:
                patient = services.register_patient(
                    form.save(commit=False),
                    request=request,
                    register_anyway=form.cleaned_data.get("register_anyway", False),
                )
            except services.PossibleDuplicate as duplicate:
                duplicates = duplicate.existing
                form = PatientForm(request.POST, show_register_anyway=True)
                form.is_valid()
                form.add_error(None, duplicate)
            else:
                messages.success(request, f"{patient.full_name} registered as chart {patient.chart_number}.")
                return redirect("patients:chart", pk=patient.pk)
    else:
        form = PatientForm()
    return render(
        request, "patients/patient_form.html", {"form": form, "duplicates": duplicates, "creating": True}
    )


@role_required(*REGISTRY)
def patient_edit(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    if request.method == "POST":
        form = PatientForm(request.POST, instance=patient)
        if form.is_valid():
            services.update_patient(form.save(commit=False), form.changed_data, request=request)
            messages.success(request, "Patient details saved.")
            return redirect("patients:chart", pk=patient.pk)
    else:
        form = PatientForm(instance=patient)
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient, "creating": False}
    )


# What the front desk may see of a chart's recent activity (DESIGN.md: demographics, appointments,
# whether consent is on file; never clinical notes, needle points or side effects): the patient's own
# record, appointments, and consents signed or withdrawn (their detail names the version only).
NON_CLINICAL_ACTIVITY = Q(object_type__in=["patients.patient", "appointments.appointment"]) | Q(
    object_type="consent.consentrecord", action__in=[Action.SIGN, Action.WITHDRAW]
)


# The apps' names the chart leaves out of an event's object type ("patients.patient" reads "patient").
ACTION_LABELS = dict(Action.choices)
ACTIVITY_APPS = ("patients.", "consent.", "treatments.", "appointments.")


def _object_words(object_type):
    for app in ACTIVITY_APPS:
        object_type = object_type.replace(app, "")
    return object_type


def recent_activity(patient, user):
    """The chart's latest audit events: all of them for clinical roles, the non-clinical ones for the rest.
    One query. Each as the words the chart shows (when, who, what was done to what, its detail), made
    here rather than by a chain of template filters per event."""
    events = AuditEvent.objects.filter(patient_id=patient.pk)
    if not user.is_clinical:
        events = events.filter(NON_CLINICAL_ACTIVITY)
    # Plain values, not whole events (their hashes, addresses and user agents are not shown).
    read = events.order_by("-id").values_list("at", "actor_email", "action", "object_type", "detail")
    return [
        {
            "at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}",
            "who": actor_email or "system",
            "action": ACTION_LABELS.get(action, action),  # as get_action_display()
            "what": _object_words(object_type),
            "detail": Truncator(detail).chars(80) if detail else "",
        }
        for at, actor_email, action, object_type, detail in read[:RECENT_ACTIVITY]
    ]


@role_required(*REGISTRY)
def patient_chart(request, pk):
    """Demographics, flags, every app's panels the user may see, and recent activity. Audited."""
    patient = get_object_or_404(Patient, pk=pk)
    record(Action.VIEW, request=request, obj=patient, patient_id=patient.pk, detail="chart")
    # The screening panel's list, read once: its first is the latest, which the flags are made of.
    screenings = recent_screenings(request, patient)
    screening = screenings[0] if screenings else None
    context = {
        "patient": patient,
        "badges": patient_badges([patient], {patient.pk: screening}).get(patient.pk, []),
        "screening": screening,
        "screening_due": services.screening_is_due(screening),
        # Each app's panel rendered with its own context (plus the patient), in the collector's order.
        "panels": render_panels(request, patient, chart_panels(request, patient)),
        "activity": recent_activity(patient, request.user),
    }
    return render(request, "patients/chart.html", context)


@role_required(Role.FRONT_DESK, Role.ADMIN)
@require_POST
def patient_archive(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    try:
        if request.POST.get("restore"):
            services.restore_patient(patient, request=request)
            messages.success(request, f"{patient.full_name} is back in search.")
        else:
            services.archive_patient(patient, request=request)
            messages.success(request, f"{patient.full_name} archived: hidden from search, record kept.")
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("patients:chart", pk=patient.pk)


@role_required(*CLINICAL)
def screening_new(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    form = ScreeningForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        screening = form.save(commit=False)
        screening.patient = patient
        services.record_screening(screening, request=request)
        messages.success(request, "Screening saved.")
        return redirect("patients:chart", pk=patient.pk)
    return render(request, "patients/screening_form.html", {"form": form, "patient": patient})


# --- chart privacy (patients/privacy.py) -----------------------------------------------------------------
@role_required(Role.PHYSIO)
def break_glass(request, pk):
    """Open a chart outside one's care team: a reason is typed and audited, then the page asked for."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme

    from . import privacy

    patient = get_object_or_404(Patient, pk=pk)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not (target.startswith("/") and url_has_allowed_host_and_scheme(target, {request.get_host()})):
        target = reverse("patients:chart", args=[patient.pk])
    if privacy.may_open_chart(request.user, patient.pk):
        return redirect(target)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.break_the_glass(
                request.user, patient, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as error:
            form.add_error("reason", error)
        else:
            messages.warning(
                request,
                f"Chart opened outside your care team for {settings.BREAK_GLASS_HOURS} hours; "
                "the administrator sees this access and your reason.",
            )
            return redirect(target)
    # Only the chart number and name: nothing clinical before the glass is broken.
    return render(request, "patients/break_glass.html", {"patient": patient, "form": form, "next": target})


@role_required(Role.ADMIN)
def access_report(request, pk):
    """Who opened, printed, exported or changed anything of this patient's, and when (the audit trail)."""
    from django.core.paginator import Paginator

    patient = get_object_or_404(Patient, pk=pk)
    events = AuditEvent.objects.filter(patient_id=patient.pk).select_related("actor").order_by("-id")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    record(Action.VIEW, request=request, obj=patient, patient_id=patient.pk, detail="access report")
    return render(
        request, "patients/access_report.html", {"patient": patient, "page": page, "Action": Action}
    )


@role_required(Role.ADMIN)
def break_glass_list(request):
    """Every chart opened by breaking the glass, newest first, with who, whose chart and why."""
    from django.core.paginator import Paginator

    events = AuditEvent.objects.filter(action=Action.BREAK_GLASS).select_related("actor").order_by("-id")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    patients = Patient.objects.in_bulk({event.patient_id for event in page.object_list})
    rows = [(event, patients.get(event.patient_id)) for event in page.object_list]
    return render(request, "patients/break_glass_list.html", {"page": page, "rows": rows})
