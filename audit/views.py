from django.core.paginator import Paginator
from django.shortcuts import render

from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 50


# Who may read it (the administrator) is declared by accounts (AccountsConfig.ready): audit imports no app.
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
        if data["since"]:
            events = events.filter(at__gte=data["since"])
        if data["until"]:
            events = events.filter(at__lt=data["until"])
    elif form.is_bound:
        events = events.none()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {"form": form, "page": page, "query": query.urlencode()})
