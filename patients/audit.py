"""What patients gives the audit trail (audit/views.py), through the hook on PatientsConfig: the audit app
imports no higher app, so it finds the patients a search means, and names the patients of a page, here."""

from .models import Patient
from .services import search_condition


def matching_ids(text):
    """The ids of the patients the search box's text means (chart number, name, as on the patient list;
    archived patients too: their trail stays), as a subquery, so the filter costs the page no query."""
    condition = search_condition(text)
    if condition is None:
        return Patient.objects.none().values("id")
    return Patient.objects.filter(condition).values("id")


def labels(ids):
    """{patient id: "C000123 Family, Given"} for the ids of one page: one query."""
    rows = Patient.objects.filter(pk__in=set(ids)).only(
        "chart_number", "family_name", "given_name", "preferred_name"
    )
    return {p.pk: f"{p.chart_number} {p.family_name}, {p.display_given_name}" for p in rows}
