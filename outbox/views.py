from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Refused, role_required

from .apps import EXPORT_ROLES, OUTBOX_ROLES
from .exports import chunks_of, may_download, record_download
from .models import BackgroundExport, EmailStatus, ExportStatus, OutboundEmail
from .services import NotRetryable, retry_now

PAGE_SIZE = 50


@role_required(*OUTBOX_ROLES)
def email_list(request):
    """Every e-mail the clinic sent or is sending, newest first, filtered by status: what the task runner
    did with it (attempts, the last error), and "Retry now" on the failed ones."""
    status = request.GET.get("status", "")
    emails = OutboundEmail.objects.defer("body", "attachments")
    if status in EmailStatus.values:
        emails = emails.filter(status=status)
    else:
        status = ""
    page = Paginator(emails, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outbox/email_list.html",
        {"page": page, "status": status, "statuses": EmailStatus.choices, "failed": EmailStatus.FAILED},
    )


@require_POST
@role_required(*OUTBOX_ROLES)
def retry(request, pk):
    email = get_object_or_404(OutboundEmail, pk=pk)
    try:
        retry_now(email, by=request.user, request=request)
    except NotRetryable as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{email.subject}” is queued again.")
    return redirect("outbox:list")


@role_required(*EXPORT_ROLES)
def export_list(request):
    """The exports this person asked for, newest first: being prepared, ready to download until they expire,
    failed (and why), expired."""
    exports = BackgroundExport.objects.filter(requested_by=request.user).defer("parameters", "summary")
    page = Paginator(exports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outbox/export_list.html", {"page": page, "ExportStatus": ExportStatus})


@role_required(*EXPORT_ROLES)
def export_download(request, pk):
    """The file of a ready export, for the person who asked for it alone (administrators included: another
    administrator asks for their own); audited as an export with what it holds."""
    export = get_object_or_404(BackgroundExport, pk=pk)
    if not may_download(export, request.user):
        raise Refused("Only the person who asked for this export may download it.")
    if request.method != "GET":  # after the refusal: whose it is decides first, for every method
        return HttpResponseNotAllowed(["GET"])
    if export.status == ExportStatus.DONE and export.expires_at <= timezone.now():
        export.status = ExportStatus.EXPIRED  # the daily job deletes its file at its next run; not served now
    if export.status != ExportStatus.DONE:
        messages.error(
            request, f"“{export.description}” is {export.get_status_display().lower()}: no file to download."
        )
        return redirect("outbox:exports")
    record_download(export, request=request)
    response = StreamingHttpResponse(chunks_of(export), content_type=export.content_type)
    response["Content-Length"] = str(export.size)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response
