from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import role_required

from .apps import OUTBOX_ROLES
from .models import EmailStatus, OutboundEmail
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
