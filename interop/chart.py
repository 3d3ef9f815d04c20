"""The chart's link to the patient's record as FHIR (clinical: physiotherapists and the administrator)."""


def export_panel(request, patient):
    return {
        "template": "interop/chart_panel.html",
        "context": {"patient": patient},
        "order": 90,
        "clinical": True,
    }
