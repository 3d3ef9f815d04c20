"""What the consent app adds to the patient chart and to patient lists (hooks of patients/chart.py)."""

from accounts.models import Role
from clinic.reversing import url_for_id

from .models import Region
from .selectors import consent_status_on_page, recent_records
from .states import ALLOWED_COLOUR, STATE_COLOURS, RegionState

RECENT_RECORDS = 10


def consent_panel(request, patient):
    """Consent per region. Shown to everyone who sees the chart, but the front desk gets only whether
    consent is on file for each region (DESIGN.md); clinicians get each region's status, the records and
    the way to obtain consent."""
    statuses = consent_status_on_page([patient])[patient.pk]
    if not request.user.is_clinical:
        # Without the general risks accepted nothing is needled: no region counts as on file.
        general = statuses[Region.GENERAL].on_file
        context = {
            "on_file": [(Region(region).label, general and statuses[region].on_file) for region in Region]
        }
    else:
        # Each link made here from one reverse(), not a {% url %} per region and record.
        detail_url = url_for_id("consent:detail")
        records = recent_records(patient, RECENT_RECORDS)
        shown = [statuses[region] for region in Region]
        context = {
            "statuses": shown,
            "records": records,
            # What the template walks: each status and record with its link.
            "status_rows": [(s, detail_url(s.record.pk) if s.record else "") for s in shown],
            "record_rows": [(record, detail_url(record.pk)) for record in records],
            "may_obtain": request.user.role == Role.PHYSIO and not patient.is_archived,
        }
    return {"template": "consent/chart_panel.html", "context": context, "order": 1, "clinical": False}


def consent_badges(patients):
    """One badge per patient, fit for every role: the regions with consent on file, or why none is. Consent
    is on file only when the general risks are accepted (no needling at all without them). One query for
    all the patients, shared with the rest of the page (consent_status_on_page)."""
    statuses = consent_status_on_page(patients)
    badges = {}
    for patient_id, by_region in statuses.items():
        if by_region[Region.GENERAL].on_file:
            regions = [Region(r).label.split(" (")[0].lower() for r in Region if by_region[r].on_file]
            label = "Consent on file: " + ", ".join(regions)
            badges[patient_id] = [{"label": label, "level": ALLOWED_COLOUR}]
        elif any(status.state == RegionState.RECONSENT for status in by_region.values()):
            level = STATE_COLOURS[RegionState.RECONSENT]
            badges[patient_id] = [{"label": "Re-consent needed", "level": level}]
        else:
            badges[patient_id] = [{"label": "No consent on file", "level": STATE_COLOURS[RegionState.NONE]}]
    return badges
