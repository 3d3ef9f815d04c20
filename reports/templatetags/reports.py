"""{% manager_summary %}: the manager's home page headline, last 30 days, from the same services as the
dashboard (the home view belongs to accounts; the figures belong here)."""

from datetime import timedelta

from django import template
from django.utils import timezone

from .. import services
from ..filters import ReportFilter

register = template.Library()
SUMMARY_DAYS = 30


@register.inclusion_tag("treatments/_incident_banner.html", takes_context=True)
def open_incidents_banner(context):
    """The open incidents banner of the manager's home page (one query): every open incident."""
    from treatments.incidents import open_incidents_for

    return {"incidents": open_incidents_for(context["request"].user)}


@register.inclusion_tag("reports/_summary.html")
def manager_summary():
    today = timezone.localdate()
    report_filter = ReportFilter(today - timedelta(days=SUMMARY_DAYS - 1), today)
    activity = services.activity(report_filter)
    coverage = services.consent_coverage(report_filter)
    safety = services.safety(report_filter)
    serious = {row.key: row for row in safety.by_severity}["significant_or_serious"]
    return {
        "days": SUMMARY_DAYS,
        "query": report_filter.as_query(),
        "activity": activity,
        "sessions": safety.sessions,
        "no_show": activity.no_show_rate.proportion,
        "coverage": coverage,
        "serious": serious.sessions_with,
    }
