from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from accounts.access import role_required
from accounts.models import Role
from audit.models import Action
from audit.services import record
from clinic.replica import reads_from_replica

from . import background, services
from .charts import bar_chart, line_chart, table_rows
from .exports import REGISTRY, stream_csv, xlsx_response
from .filters import XLSX_ROW_LIMIT, ExportTooLarge, filter_from_request
from .forms import ExportForm

REPORT_ROLES = (Role.MANAGER, Role.ADMIN)
# The dashboard's per-therapist chart and table show the therapists with the most sessions; a clinic of
# hundreds has them all on their own page (views.therapists), which the dashboard links to (issue 17).
THERAPISTS_SHOWN = 25
PER_THERAPIST_CLASSES = ("", "text-end", "text-end")


def session_url(session_id):
    """The needling session's page, for clinical roles (None while the treatments app has no such page)."""
    try:
        return reverse("treatments:session", args=[session_id])
    except NoReverseMatch:
        return None


def percent(rate):
    return None if rate.proportion is None else 100 * rate.proportion


def _period_label(day, unit):
    return f"{day:%b %Y}" if unit == "month" else f"{day:%b %d}"


def dashboard_context(request, report_filter):
    """Every figure and chart of the activity dashboard: a fixed number of queries."""
    clinical = request.user.is_clinical
    activity = services.activity(report_filter)
    needling = services.needling(report_filter)
    coverage = services.consent_coverage(report_filter, list_sessions=clinical, counted=needling)
    if clinical:
        for row in coverage.uncovered:
            row["url"] = session_url(row["session_id"])
    labels = [_period_label(day, activity.unit) for day in activity.periods]
    shown, others = activity.per_therapist[:THERAPISTS_SHOWN], activity.per_therapist[THERAPISTS_SHOWN:]
    table = list(shown)
    if others:  # one row adds up the rest, so the table's columns still add up to the clinic's figures
        table.append(
            (
                f"The other {len(others)} therapist{'s' if len(others) > 1 else ''}",
                sum(row[1] for row in others),
                sum(row[2] for row in others),
            )
        )
    charts = [
        line_chart(
            "activity",
            f"Appointments and needling sessions per {activity.unit}",
            labels,
            [
                ("Appointments", [activity.appointments_per_period.get(d, 0) for d in activity.periods]),
                ("Needling sessions", [activity.sessions_per_period.get(d, 0) for d in activity.periods]),
            ],
            label=activity.unit.capitalize(),
            note="Appointments exclude cancelled ones; each is counted on the day it was booked for.",
        ),
        bar_chart(
            "per-therapist",
            f"Needling sessions per therapist (the {THERAPISTS_SHOWN} with the most)"
            if others
            else "Needling sessions per therapist",
            [(name, sessions) for name, _, sessions in shown],
            label="Therapist",
            value="Sessions",
        ),
        bar_chart(
            "points-per-session",
            "Needle points per session",
            needling.points_histogram,
            label="Points",
            value="Sessions",
        ),
        bar_chart("muscles", "Most needled muscles", needling.muscles, label="Muscle", value="Points"),
        bar_chart("regions", "Points by body region", needling.regions, label="Body region", value="Points"),
    ]
    return {
        "activity": activity,
        "needling": needling,
        "coverage": coverage,
        "coverage_percent": percent(coverage.rate),
        "no_show_percent": percent(activity.no_show_rate),
        "cancelled_percent": percent(activity.cancellation_rate),
        "twitch_percent": percent(needling.twitch_rate),
        "charts": charts,
        "per_therapist_rows": table_rows(table, 3, PER_THERAPIST_CLASSES),
        "therapists_total": len(activity.per_therapist),
        "therapists_shown": len(shown),
        "therapists_folded": len(others),
        "clinical": clinical,
    }


@role_required(*REPORT_ROLES)
@reads_from_replica
def dashboard(request):
    """Activity and outcomes for the chosen range, therapist and location. Audited as a view."""
    form, report_filter = filter_from_request(request)
    context = {"form": form, "report_filter": report_filter}
    if report_filter is not None:
        context.update(dashboard_context(request, report_filter))
        record(Action.VIEW, request=request, object_type="reports.dashboard", detail=report_filter.as_audit())
    return render(request, "reports/dashboard.html", context, status=200 if report_filter else 400)


@role_required(*REPORT_ROLES)
@reads_from_replica
def therapists(request):
    """Every therapist's appointments and needling sessions for the chosen range, location (and therapist):
    the dashboard's per-therapist table unfolded, the same figures (services.activity). Audited as a view."""
    form, report_filter = filter_from_request(request)
    context = {"form": form, "report_filter": report_filter}
    if report_filter is not None:
        activity = services.activity(report_filter)
        context["therapists_total"] = len(activity.per_therapist)
        context["per_therapist_rows"] = table_rows(activity.per_therapist, 3, PER_THERAPIST_CLASSES)
        record(
            Action.VIEW, request=request, object_type="reports.therapists", detail=report_filter.as_audit()
        )
    return render(request, "reports/therapists.html", context, status=200 if report_filter else 400)


@role_required(*REPORT_ROLES)
@reads_from_replica
def safety(request):
    """Side effect rates against the published baselines, and every significant or serious event (with a
    link to its session for clinical roles). Audited as a view."""
    form, report_filter = filter_from_request(request)
    from treatments.models import Severity

    context = {
        "form": form,
        "report_filter": report_filter,
        "clinical": request.user.is_clinical,
        "Severity": Severity,
    }
    if report_filter is not None:
        figures = services.safety(report_filter)
        if request.user.is_clinical:
            for event in figures.events:
                event["url"] = session_url(event["session_id"])
        context["safety"] = figures
        context["follow_ups"] = services.follow_ups(report_filter, figures.sessions)
        context["severity_chart"] = bar_chart(
            "severity",
            "Sessions with a side effect, per 100 sessions, by severity",
            [(row.label, round(percent(row.rate) or 0, 2)) for row in figures.by_severity],
            label="Severity",
            value="Per 100 sessions",
        )
        context["type_chart"] = bar_chart(
            "types",
            "Sessions with each side effect, per 100 sessions",
            [(row.label, round(percent(row.rate) or 0, 2)) for row in figures.by_type if row.sessions_with],
            label="Side effect",
            value="Per 100 sessions",
        )
        record(Action.VIEW, request=request, object_type="reports.safety", detail=report_filter.as_audit())
    # Open incidents whatever the range: each needs its follow-up until it is closed.
    context["open_incidents"] = services.open_incidents()
    return render(request, "reports/safety.html", context, status=200 if report_filter else 400)


@role_required(*REPORT_ROLES)
def exports(request):
    """The export page: filters, format, and one download per export."""
    # Bound even without parameters: a first visit gets the dashboards' default range (the last 90 days).
    form = ExportForm(request.GET, user=request.user)
    report_filter = form.report_filter() if form.is_valid() else None
    return render(request, "reports/exports.html", export_page(form, report_filter))


def export_page(form, report_filter, error=""):
    query = ""
    if form.is_bound:
        data = form.data.copy()
        for key in ("file_format", "apply"):
            data.pop(key, None)
        query = data.urlencode()
    return {
        "form": form,
        "exports": REGISTRY.values(),
        "query": query,
        "error": error,
        "filter": report_filter,
        "xlsx_limit": f"{XLSX_ROW_LIMIT:,}",
    }


@role_required(*REPORT_ROLES)
@reads_from_replica
def export(request, key):
    """Download one export as CSV (streamed) or XLSX, honouring the filters. Audited with the row count.
    Refuses, on the export page with a message, bad filters, names asked for by anyone but an
    administrator, and an XLSX larger than a sheet."""
    chosen = REGISTRY.get(key)
    if chosen is None:
        raise Http404("No such export.")
    form = ExportForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "reports/exports.html", export_page(form, None), status=400)
    report_filter = form.report_filter()
    if (
        request.method == "POST"
    ):  # "Prepare in the background": a file for "My exports" (reports/background.py)
        return background.prepare(request, chosen, form, report_filter, roles=REPORT_ROLES)
    names, codes = form.cleaned_data["names"], form.cleaned_data["codes"]
    file_format = request.GET.get("file_format", "csv")
    if file_format not in ("csv", "xlsx"):
        return render(
            request,
            "reports/exports.html",
            export_page(form, report_filter, "Choose CSV or XLSX."),
            status=400,
        )
    if file_format == "xlsx":
        try:
            return xlsx_response(
                chosen, report_filter, user=request.user, names=names, codes=codes, request=request
            )
        except ExportTooLarge as error:
            return render(
                request, "reports/exports.html", export_page(form, report_filter, str(error)), status=400
            )
    return stream_csv(chosen, report_filter, user=request.user, names=names, codes=codes, request=request)
