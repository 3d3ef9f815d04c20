from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from accounts.access import role_required
from accounts.models import Role

from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 50


def local_midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@role_required(Role.ADMIN)
def event_list(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor").order_by("-id")
    if form.is_valid():
        data = form.cleaned_data
        if data["user"]:
            events = events.filter(actor=data["user"])
        if data["patient_id"]:
            events = events.filter(patient_id=data["patient_id"])
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["date_from"]:
            events = events.filter(at__gte=local_midnight(data["date_from"]))
        if data["date_to"]:
            events = events.filter(at__lt=local_midnight(data["date_to"] + timedelta(days=1)))
    elif form.is_bound:
        events = events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})
