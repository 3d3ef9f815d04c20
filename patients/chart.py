"""The chart page's two collectors, which other apps plug into through their AppConfig.

    chart_panels = ["<app>.chart.<function>", ...]      panel(request, patient) -> dict | None
        {"template": "<app>/chart_panel.html", "context": {...}, "order": int, "clinical": bool}
    patient_badges = ["<app>.chart.<function>", ...]    badges(patients) -> {patient_id: [badge, ...]}
        badge: {"label": str, "level": "danger" | "warning" | "success" | "secondary"}

Panels marked clinical are shown only to clinical roles (physiotherapist, administrator): the front desk
sees demographics, flags and non-clinical panels (such as whether consent is on file), never notes.

Parts of one chart that show the same rows (the page's flags and the screening panel; the session history
and the course of care) read them once through on_chart(): a memo kept on the request, keyed by the
patient, so it lives no longer than the page being drawn and never crosses to another patient or user.
"""

from django.apps import apps
from django.template import engines
from django.template.backends.utils import csrf_input_lazy, csrf_token_lazy
from django.template.loader import get_template
from django.utils.module_loading import import_string

from .models import SCREENING_LABELS
from .selectors import screenings_of
from .services import LatestScreening, latest_screening_findings, screening_cutoff, screening_rules

BADGE_LEVELS = ("danger", "warning", "success", "secondary")


def _hooks(attribute):
    for config in apps.get_app_configs():
        for dotted in getattr(config, attribute, ()):
            yield import_string(dotted)


def on_chart(request, patient, name, compute):
    """compute() once per request and patient for the part of the chart called `name`; later asks within
    the same request get the same value. Without a request (a caller outside a page) it just computes."""
    if request is None:
        return compute()
    memo = request.__dict__.setdefault("_chart_memo", {})
    key = (name, getattr(patient, "pk", patient))
    if key not in memo:
        memo[key] = compute()
    return memo[key]


RECENT_SCREENINGS = 10


def recent_screenings(request, patient):
    """The patient's latest RECENT_SCREENINGS screenings, newest first, with who answered them: one query
    per page, shared by the chart's flags (the first is the latest) and its screening panel."""
    return on_chart(
        request,
        patient,
        "screenings",
        lambda: screenings_of(patient, limit=RECENT_SCREENINGS),  # fixed SQL (patients/selectors.py)
    )


def chart_panels(request, patient):
    """Every app's panel for this patient that the user may see, in their declared order."""
    panels = []
    for panel in _hooks("chart_panels"):
        result = panel(request, patient)
        if result is None:
            continue
        if result.get("clinical", True) and not request.user.is_clinical:
            continue
        panels.append(result)
    return sorted(panels, key=lambda p: p.get("order", 100))


def render_panels(request, patient, panels):
    """Each panel's template rendered with its own context plus the patient, in the given order. The
    context processors (navigation, messages, user, roles) and the CSRF token are made once for the page,
    not once per panel as render_to_string(request=...) would."""
    engine = engines["django"].engine
    shared = {}
    for processor in engine.template_context_processors:
        shared.update(processor(request))
    shared.update(csrf_input=csrf_input_lazy(request), csrf_token=csrf_token_lazy(request))
    return [
        # The processors' names win over a panel's, as in a RequestContext.
        get_template(panel["template"]).render({"patient": patient, **panel["context"], **shared})
        for panel in panels
    ]


def screening_badges(patients, latest=None):
    """Findings of each patient's latest screening: contraindications in red (danger), precautions in
    amber (warning), and "Screening due" when it is missing or older than SCREENING_VALID_MONTHS
    (warning). One fixed statement for any number of patients (latest_screening_findings()); when the
    caller already has `latest` ({patient_id: latest Screening or None} for every patient: the chart),
    none, or one for the clinic's rules when a latest screening has an item answered yes."""
    if latest is None:
        found = latest_screening_findings(patients)
    else:
        screenings = {k: v for k, v in latest.items() if v}
        # The clinic's rules matter only to a screening with an item answered yes.
        rules = screening_rules() if any(screening.flags for screening in screenings.values()) else {}
        found = {k: LatestScreening.of(screening, rules) for k, screening in screenings.items()}
    cutoff = screening_cutoff()
    badges = {}
    for patient in patients:
        screening = found.get(patient.pk)
        items = [
            {
                "label": finding.label,
                "level": "danger" if finding.is_contraindication else "warning",
                "title": ("Contraindication: " if finding.is_contraindication else "Precaution: ")
                + finding.where,
            }
            for finding in (screening.findings if screening else [])
        ]
        if screening is None:
            items.append({"label": "Screening due (none on file)", "level": "warning"})
        elif screening.answered_at < cutoff:
            items.append({"label": "Screening due", "level": "warning"})
        if patient.archived_at is not None:
            items.append({"label": "Archived", "level": "secondary"})
        badges[patient.pk] = items
    return badges


def patient_badges(patients, latest=None):
    """{patient_id: [badge, ...]} for the given patients: the patients app's own screening badges, then
    every other app's `patient_badges` hooks. A constant number of queries however many patients: each
    hook must answer for all of them at once. `latest` as for screening_badges()."""
    patients = list(patients)
    merged = screening_badges(patients, latest)
    for hook in _hooks("patient_badges"):
        for patient_id, items in hook(patients).items():
            merged.setdefault(patient_id, []).extend(items)
    return merged


def screening_panel(request, patient):
    """The screening history with notes: clinical."""
    screenings = recent_screenings(request, patient)
    return {
        "template": "patients/chart_screening_panel.html",
        "context": {"screenings": screenings, "labels": SCREENING_LABELS, "patient": patient},
        "order": 5,
        "clinical": True,
    }
