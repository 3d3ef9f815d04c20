"""The chart page's two collectors, which other apps plug into through their AppConfig.

    chart_panels = ["<app>.chart.<function>", ...]      panel(request, patient) -> dict | None
        {"template": "<app>/chart_panel.html", "context": {...}, "order": int, "clinical": bool}
    patient_badges = ["<app>.chart.<function>", ...]    badges(patients) -> {patient_id: [badge, ...]}
        badge: {"label": str, "level": "danger" | "warning" | "success" | "secondary"}

Panels marked clinical are shown only to clinical roles (physiotherapist, administrator): the front desk
sees demographics, flags and non-clinical panels (such as whether consent is on file), never notes.
"""

from django.apps import apps
from django.utils.module_loading import import_string

from .models import SCREENING_LABELS
from .services import findings, latest_screenings, screening_cutoff, screening_rules

BADGE_LEVELS = ("danger", "warning", "success", "secondary")


def _hooks(attribute):
    for config in apps.get_app_configs():
        for dotted in getattr(config, attribute, ()):
            yield import_string(dotted)


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


def screening_badges(patients):
    """Findings of each patient's latest screening: contraindications in red (danger), precautions in
    amber (warning), and "Screening due" when it is missing or older than SCREENING_VALID_MONTHS
    (warning). Two queries (the screenings, the clinic's rules)."""
    latest = latest_screenings(patients)
    rules = screening_rules() if latest else {}
    cutoff = screening_cutoff()
    badges = {}
    for patient in patients:
        screening = latest.get(patient.pk)
        items = [
            {
                "label": finding.label,
                "level": "danger" if finding.is_contraindication else "warning",
                "title": ("Contraindication: " if finding.is_contraindication else "Precaution: ")
                + finding.where,
            }
            for finding in findings(screening, rules)
        ]
        if screening is None:
            items.append({"label": "Screening due (none on file)", "level": "warning"})
        elif screening.answered_at < cutoff:
            items.append({"label": "Screening due", "level": "warning"})
        if patient.archived_at is not None:
            items.append({"label": "Archived", "level": "secondary"})
        badges[patient.pk] = items
    return badges


def patient_badges(patients):
    """{patient_id: [badge, ...]} for the given patients: the patients app's own screening badges, then
    every other app's `patient_badges` hooks. A constant number of queries however many patients: each
    hook must answer for all of them at once."""
    patients = list(patients)
    merged = screening_badges(patients)
    for hook in _hooks("patient_badges"):
        for patient_id, items in hook(patients).items():
            merged.setdefault(patient_id, []).extend(items)
    return merged


def screening_panel(request, patient):
    """The screening history with notes: clinical."""
    screenings = list(patient.screenings.select_related("answered_by")[:10])
    return {
        "template": "patients/chart_screening_panel.html",
        "context": {"screenings": screenings, "labels": SCREENING_LABELS, "patient": patient},
        "order": 5,
        "clinical": True,
    }
