"""The manager's exports prepared in the background (issue 15 part 1): a CSV or XLSX over a large range
becomes a background export (outbox/exports.py) rather than a long download. The export page's "Prepare in
the background" posts to the export's own URL with the filters; the worker writes the same file as the
download would (reports/exports.py: stream_csv's COPY windows, build_xlsx's workbook, both audited as the
export they are, with the filters and row count, under the person who asked), and the file waits under
"My exports" for that person alone."""

import shutil

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect, render

from audit.models import Action, AuditEvent
from outbox.exports import request_export

from .exports import REGISTRY, build_xlsx, check_names_allowed, stream_csv
from .forms import ExportForm

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def prepare(request, chosen, form, report_filter, roles):
    """Queue `chosen` with the request's filters in the format posted; to "My exports" with a message."""
    from .views import export_page

    file_format = request.POST.get("file_format", "")
    if file_format not in CONTENT_TYPES:
        page = export_page(form, report_filter, "Choose CSV or XLSX.")
        return render(request, "reports/exports.html", page, status=400)
    check_names_allowed(request.user, form.cleaned_data["names"])
    query = request.GET.copy()
    query.pop("file_format", None)
    request_export(
        by=request.user,
        kind=f"reports.{chosen.key}",
        description=f"{chosen.name}, {file_format.upper()}: {report_filter.as_audit()}",
        function="reports.background.write_export",
        parameters={"key": chosen.key, "query": query.urlencode(), "file_format": file_format},
        filename=chosen.filename(report_filter, file_format),
        content_type=CONTENT_TYPES[file_format],
        roles=roles,
        request=request,
    )
    messages.success(
        request, f"“{chosen.name}” is being prepared in the background; it will be listed here when ready."
    )
    return redirect("outbox:exports")


def write_export(out, *, by, key, query, file_format):
    """Write export `key` with the filters of `query` as `file_format` into `out`; returns the audit event's
    detail of the export (its filters and row count)."""
    chosen = REGISTRY[key]
    form = ExportForm(QueryDict(query), user=by)
    if not form.is_valid():
        raise ValueError(f"The filters are no longer valid: {form.errors.as_text()}")
    report_filter = form.report_filter()
    names, codes = form.cleaned_data["names"], form.cleaned_data["codes"]
    if file_format == "xlsx":
        file, _rows = build_xlsx(chosen, report_filter, user=by, names=names, codes=codes)
        with file:
            shutil.copyfileobj(file, out, 1024 * 1024)
    else:
        response = stream_csv(chosen, report_filter, user=by, names=names, codes=codes)
        for chunk in response.streaming_content:
            out.write(chunk)
    event = AuditEvent.objects.filter(
        action=Action.EXPORT, actor=by, object_type="reports.export", object_id=key
    ).latest("id")
    return event.detail
