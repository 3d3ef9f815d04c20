from django.apps import apps
from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.module_loading import import_string

from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 50


def patient_hook(name):
    """The function an app declares for the audit trail's patients (`audit_patients` on its AppConfig:
    {"search": text -> subquery of ids, "labels": ids -> {id: label}}), or None. The audit app imports no
    app above it (DESIGN.md), so the patients app tells it how to find and name patients."""
    for config in apps.get_app_configs():
        dotted = getattr(config, "audit_patients", {}).get(name)
        if dotted:
            return import_string(dotted)
    return None


# Who may read it (the administrator) is declared by accounts (AccountsConfig.ready): audit imports no app.
def event_list(request):
    """The trail, newest first, filtered by staff member, patient (chart number or name), action and
    dates; times in the clinic's zone, which the page names. A constant number of queries."""
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor").order_by("-id")
    if form.is_valid():
        data = form.cleaned_data
        if data["user"]:
            events = events.filter(actor=data["user"])
        if data["patient"]:
            search = patient_hook("search")
            events = events.filter(patient_id__in=search(data["patient"])) if search else events.none()
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["since"]:
            events = events.filter(at__gte=data["since"])
        if data["until"]:
            events = events.filter(at__lt=data["until"])
    elif form.is_bound:
        events = events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = patient_hook("labels")
    patient_ids = {event.patient_id for event in page if event.patient_id is not None}
    names = labels(patient_ids) if labels and patient_ids else {}
    for event in page:
        event.patient_label = names.get(event.patient_id) or (
            f"#{event.patient_id}" if event.patient_id else ""
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "time_zone": settings.TIME_ZONE}
    return render(request, "audit/event_list.html", context)
