import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.access import public, role_required
from accounts.models import Role, User
from audit.models import Action
from audit.services import record
from clinic.patient_links import LinkRefused, read_token, refused_response
from clinic.pdf import pdf_response
from patients.models import Patient
from patients.services import find_patients

from . import receipts, selectors
from .calendar import Column, build_grid, week_days
from .forms import (
    BookingForm,
    BreakForm,
    CancelForm,
    NextAvailableForm,
    PaymentForm,
    RefundForm,
    RemovalForm,
    RescheduleForm,
    TimeOffForm,
    UndoCheckInForm,
    WorkingHoursForm,
)
from .models import (
    PAYABLE_STATUSES,
    Appointment,
    AppointmentType,
    Location,
    Payment,
    PaymentKind,
    Status,
    TimeOff,
    WorkingHours,
    overlapping,
)
from .services import booking, payments, status_changes, working_time

DESK = (Role.FRONT_DESK, Role.ADMIN)
CALENDAR = (Role.FRONT_DESK, Role.ADMIN, Role.MANAGER, Role.PHYSIO)
SCHEDULES = (Role.MANAGER, Role.ADMIN)
# Fees and receipts are the desk's business (check-out), and the manager's; not clinical, so not the physio's.
PAYMENTS = (Role.FRONT_DESK, Role.MANAGER, Role.ADMIN)
FIRST_YEAR, LAST_YEAR = 1990, 2200
CONFIRMABLE = {"past": "confirm_past", "outside_hours": "confirm_outside_hours"}


def _day_from(request):
    """?date=YYYY-MM-DD within the years anyone books in; today otherwise."""
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else timezone.localdate()


def _location_from(request, locations):
    """The location asked for (?location=<id>, or "all"); by default the first one when there are
    several, so a chain's day view shows one clinic's physiotherapists, not hundreds of columns."""
    wanted = request.GET.get("location", "")
    if wanted == "all" or len(locations) < 2:
        return None
    for location in locations:
        if str(location.pk) == wanted:
            return location
    return locations[0]


def _can_book(user):
    return user.has_role(*DESK)


# --- calendar ----------------------------------------------------------------------------------------
@role_required(*CALENDAR)
def day_view(request):
    """A column per physiotherapist for one day; free times link to the booking form. Constant queries."""
    day = _day_from(request)
    locations = list(Location.objects.order_by("pk"))
    location = _location_from(request, locations)
    columns = [
        Column(label=str(person), day=day, therapist=person, appointments=appointments, blocks=blocks)
        for person, appointments, blocks in selectors.day_schedule(day, location=location)
    ]
    can_book = _can_book(request.user)
    now = timezone.localtime()
    rows = build_grid(
        columns,
        book_url=reverse("appointments:book") if can_book else None,
        now=now if day == now.date() else None,
    )
    if location is not None:
        place_query = f"&location={location.pk}"
    else:
        place_query = "&location=all" if len(locations) > 1 else ""
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": now.date(),
        "columns": columns,
        "rows": rows,
        "can_book": can_book,
        "booked_count": sum(len(c.appointments) for c in columns),
        "locations": locations,
        "location": location,
        "place_query": place_query,
    }
    return render(request, "appointments/day.html", context)


@role_required(*CALENDAR)
def location_week(request):
    """Every physiotherapist of a location over one week: a row per physiotherapist, a column per day,
    each cell that day's appointments. A constant number of queries whatever the people and bookings."""
    days = week_days(_day_from(request))
    locations = list(Location.objects.order_by("pk"))
    location = _location_from(request, locations) or (locations[0] if locations else None)
    people = selectors.therapists(location) if location is not None else []
    start, _ = selectors.local_day_bounds(days[0])
    _, end = selectors.local_day_bounds(days[-1])
    cells = {(p.pk, d): [] for p in people for d in days}
    for appointment in (
        # Those starting in the week: each is listed on the day it starts (the (start, therapist) index).
        Appointment.objects.filter(therapist__in=people, start__gte=start, start__lt=end)
        .select_related("patient")
        .order_by("start", "id")
    ):
        cells[(appointment.therapist_id, timezone.localtime(appointment.start).date())].append(appointment)
    context = {
        "days": days,
        "location": location,
        "locations": locations,
        "rows": [(person, [cells[(person.pk, day)] for day in days]) for person in people],
        "previous": days[0] - timedelta(days=7),
        "next": days[0] + timedelta(days=7),
        "today": timezone.localdate(),
    }
    return render(request, "appointments/location_week.html", context)


@role_required(*CALENDAR)
def week_view(request, therapist_id):
    """One physiotherapist's week, a column per day."""
    therapist = get_object_or_404(User, pk=therapist_id, role=Role.PHYSIO)
    days = week_days(_day_from(request))
    first, last = days[0], days[-1]
    start, _ = selectors.local_day_bounds(first)
    _, end = selectors.local_day_bounds(last)
    appointments = list(
        overlapping(Appointment.objects.filter(therapist=therapist), start, end)
        .select_related("patient", "type")
        .order_by("start", "id")
    )
    blocks = selectors.working_blocks([therapist], first, last)[therapist.pk]
    columns = []
    for day in days:
        day_start, day_end = selectors.local_day_bounds(day)
        columns.append(
            Column(
                label=f"{day:%a %d %b}",
                day=day,
                therapist=therapist,
                appointments=[a for a in appointments if day_start <= a.start < day_end],
                blocks=[b for b in blocks if day_start <= b[0] < day_end],
            )
        )
    can_book = _can_book(request.user)
    context = {
        "therapist": therapist,
        "days": days,
        "columns": columns,
        "rows": build_grid(columns, book_url=reverse("appointments:book") if can_book else None),
        "previous": first - timedelta(days=7),
        "next": first + timedelta(days=7),
        "can_book": can_book,
        "therapists": selectors.therapists(),
    }
    return render(request, "appointments/week.html", context)


@role_required(*DESK)
def today(request):
    """The front desk's start page panel: today's counts by status and every appointment of the day, with
    check-in where it is open, and how many online bookings' patients wait to be verified (htmx partial).
    Three queries whatever the number of appointments."""
    now = timezone.now()
    start, end = selectors.local_day_bounds(timezone.localdate())
    todays = list(
        Appointment.objects.filter(start__gte=start, start__lt=end)
        .select_related("patient", "therapist", "type")
        .order_by("start", "id")
    )
    counts = Counter(a.status for a in todays)
    statuses = [(status, counts.get(status.value, 0)) for status in Status]
    rows = [(a, status_changes.can_check_in(a, now)) for a in todays]
    return render(
        request,
        "appointments/_today.html",
        {
            "statuses": statuses,
            "total": len(todays),
            "rows": rows,
            "day": start.date(),
            "unverified": Patient.objects.filter(online_unverified=True, archived_at__isnull=True).count(),
        },
    )


# --- booking -----------------------------------------------------------------------------------------
def _initial_from(query):
    """Prefill from a calendar click or a next-available link: ?therapist=&start=&type=&patient=."""
    initial = {}
    for name in ("therapist", "type", "patient"):
        if query.get(name, "").isdigit():
            initial[name] = int(query[name])
    try:
        start = datetime.fromisoformat(query.get("start", ""))
    except ValueError:
        start = None
    if start is not None:
        initial["date"], initial["time"] = start.date(), start.time().replace(second=0, microsecond=0)
    if "type" not in initial:
        follow_up = AppointmentType.objects.filter(name="IMS follow-up", active=True).first()
        if follow_up is not None:
            initial["type"] = follow_up.pk
    return initial


def _chosen_patients(value):
    return list(Patient.objects.filter(pk=value, archived_at__isnull=True)) if str(value).isdigit() else []


@role_required(*DESK)
def book(request):
    """The booking form: patient quick search, type, physiotherapist, time; next available beside it."""
    show_confirm = ()
    if request.method == "POST":
        chosen = _chosen_patients(request.POST.get("patient", ""))
        form = BookingForm(request.POST, patient_choices=chosen)
        if form.is_valid():
            data = form.cleaned_data
            start, end = form.start_and_end(data["type"].default_minutes)
            try:
                appointment = booking.book(
                    patient=data["patient"],
                    therapist=data["therapist"],
                    type=data["type"],
                    start=start,
                    end=end,
                    location=data["location"],
                    by=request.user,
                    notes=data["notes"],
                    confirm_outside_hours=data["confirm_outside_hours"],
                    confirm_past=data["confirm_past"],
                    request=request,
                )
            except booking.BookingError as error:
                if error.code in CONFIRMABLE:
                    show_confirm = (CONFIRMABLE[error.code],)
                    form = BookingForm(request.POST, patient_choices=chosen, show_confirm=show_confirm)
                    form.is_valid()
                form.add_error(None, error)
            else:
                local = timezone.localtime(appointment.start)
                messages.success(
                    request,
                    f"Booked {appointment.patient.full_name}: {appointment.type.name} with "
                    f"{appointment.therapist} on {local:%a %d %b at %H:%M}.",
                )
                return redirect(f"{reverse('appointments:day')}?date={local.date().isoformat()}")
    else:
        initial = _initial_from(request.GET)
        form = BookingForm(initial=initial, patient_choices=_chosen_patients(initial.get("patient", "")))
    return render(
        request, "appointments/book.html", {"form": form, "next_form": NextAvailableForm(request.GET)}
    )


@role_required(*DESK)
def patient_search(request):
    """htmx: patients matching the booking form's search box, as radio buttons for the form."""
    text = request.GET.get("patient_query", "").strip()
    search = find_patients(text, limit=10) if text else None
    return render(request, "appointments/_patient_choices.html", {"search": search, "q": text})


@role_required(*DESK)
def next_available(request):
    """htmx: the first free times for a type (and a physiotherapist, or anyone), as links to book them."""
    form = NextAvailableForm(request.GET)
    slots = []
    unauthorised = None
    if form.is_valid():
        data = form.cleaned_data
        if data["type"].needling and data["therapist"] is not None and not data["therapist"].may_needle():
            # Said, rather than "nothing free": a needling type is offered with authorised clinicians only.
            unauthorised = data["therapist"]
        slots = selectors.available_slots(
            type=data["type"],
            therapist=data["therapist"],
            patient=data["patient"],
            limit=8,
            moving=data["appointment"],
        )
    moving = form.cleaned_data.get("appointment") if form.is_valid() else None
    target = reverse("appointments:reschedule", args=[moving.pk]) if moving else reverse("appointments:book")
    links = []
    for slot in slots:
        query = QueryDict(mutable=True)
        query.update(
            {
                "therapist": slot.therapist.pk,
                "start": timezone.localtime(slot.start).strftime("%Y-%m-%dT%H:%M"),
            }
        )
        if moving is None:
            query["type"] = form.cleaned_data["type"].pk
            if form.cleaned_data.get("patient"):
                query["patient"] = form.cleaned_data["patient"].pk
        links.append((slot, timezone.localtime(slot.start), f"{target}?{query.urlencode()}"))
    return render(
        request,
        "appointments/_next_available.html",
        {"form": form, "links": links, "unauthorised": unauthorised},
    )


# --- one appointment -----------------------------------------------------------------------------------
def _appointment(pk):
    return get_object_or_404(
        Appointment.objects.select_related("patient", "therapist", "type", "location", "room", "booked_by"),
        pk=pk,
    )


@role_required(*CALENDAR)
def detail(request, pk):
    return _render_detail(request, _appointment(pk))


def _render_detail(request, appointment, *, payment_form=None, refund_form=None, status=200):
    history = appointment.status_changes.select_related("by")
    actions = status_changes.NEXT_STATUSES[Status(appointment.status)]
    can_take_payment = request.user.has_role(*PAYMENTS)
    payments_list = (
        list(appointment.payments.select_related("recorded_by", "refund_of")) if can_take_payment else []
    )
    refunded = {}
    for entry in payments_list:
        if entry.refund_of_id:
            refunded[entry.refund_of_id] = refunded.get(entry.refund_of_id, 0) + entry.amount
    for entry in payments_list:
        entry.remaining = entry.amount + refunded.get(entry.pk, 0) if not entry.is_refund else None
    context = {
        "appointment": appointment,
        "history": history,
        "can_book": _can_book(request.user),
        "cancel_form": CancelForm(),
        "actions": actions,
        "show_actions": _can_book(request.user) and (actions or appointment.status == Status.ARRIVED),
        "can_check_in": status_changes.can_check_in(appointment),
        "can_reschedule": appointment.status in booking.RESCHEDULABLE,
        # Shown instead of the button: when check-in opens (or that its day has passed).
        "check_in_window": status_changes.check_in_window(appointment) if Status.ARRIVED in actions else None,
        "now": timezone.now(),
        "Status": Status,
        # Fees and receipts: the desk (and the manager) take payment once the patient has come.
        "can_take_payment": can_take_payment,
        "payable": appointment.status in PAYABLE_STATUSES,
        "payments": payments_list,
        "paid_total": sum((entry.amount for entry in payments_list), Decimal("0.00")),
        "payment_form": payment_form or PaymentForm(initial={"amount": appointment.type.fee}),
        "refund_form": refund_form,
        # Names this page's "e-mail the receipt", so a double click sends it once.
        "sent_from": uuid.uuid4(),
    }
    return render(request, "appointments/detail.html", context, status=status)


@role_required(*PAYMENTS)
@require_POST
def pay(request, pk):
    """Mark the visit paid (amount, method): a receipt number is given; a bad entry is shown on the form."""
    appointment = _appointment(pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            entry = payments.record_payment(
                appointment,
                amount=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                by=request.user,
                request=request,
            )
        except payments.PaymentError as error:
            form.add_error(None, error.messages[0])
        else:
            messages.success(request, f"Paid ${entry.amount}: receipt {entry.receipt_number}.")
            return redirect("appointments:detail", pk=appointment.pk)
    return _render_detail(request, appointment, payment_form=form, status=400)


@role_required(*PAYMENTS)
@require_POST
def refund(request, pk):
    """Give back part or all of one of this appointment's payments, as a new receipt."""
    appointment = _appointment(pk)
    form = RefundForm(request.POST)
    if form.is_valid():
        original = appointment.payments.filter(
            pk=form.cleaned_data["payment"], kind=PaymentKind.PAYMENT
        ).first()
        if original is None:
            form.add_error(None, "Choose a payment of this appointment to refund.")
        else:
            try:
                entry = payments.refund(
                    original,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    request=request,
                )
            except payments.PaymentError as error:
                form.add_error(None, error.messages[0])
            else:
                messages.success(request, f"Refunded ${-entry.amount}: receipt {entry.receipt_number}.")
                return redirect("appointments:detail", pk=appointment.pk)
    return _render_detail(request, appointment, refund_form=form, status=400)


@role_required(*PAYMENTS)
def receipt(request, pk, payment_pk):
    """The receipt of one payment or refund, as a PDF for the patient's extended health insurer. Audited
    as a print."""
    entry = get_object_or_404(Payment.objects.select_related(*RECEIPT_ROWS), pk=payment_pk, appointment_id=pk)
    pdf = receipts.receipt_pdf(entry, request=request)
    record(
        Action.PRINT,
        request=request,
        user=request.user,
        obj=entry,
        patient_id=entry.appointment.patient_id,
        detail=f"receipt {entry.receipt_number}",
    )
    return pdf_response(pdf, receipts.receipt_filename(entry))


RECEIPT_ROWS = (
    "appointment__patient",
    "appointment__therapist__clinician_profile",
    "appointment__type",
    "appointment__location",
    "refund_of",
)


@role_required(*PAYMENTS)
@require_POST
def receipt_email(request, pk, payment_pk):
    """E-mail the receipt to the patient as a signed link; audited as a send."""
    entry = get_object_or_404(Payment.objects.select_related(*RECEIPT_ROWS), pk=payment_pk, appointment_id=pk)
    try:
        sent_from = uuid.UUID(request.POST.get("sent_from", ""))
    except ValueError:
        messages.error(request, "Reload the appointment and send the receipt from there.")
        return redirect("appointments:detail", pk=pk)
    link = request.build_absolute_uri(receipts.link_path(entry))
    try:
        queued = receipts.send_receipt(
            entry, by=request.user, link_url=link, sent_from=sent_from, request=request
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        if queued:
            messages.success(
                request, f"Receipt {entry.receipt_number} is on its way to {entry.appointment.patient.email}."
            )
        else:
            messages.info(request, f"Receipt {entry.receipt_number} was already sent from this page.")
    return redirect("appointments:detail", pk=pk)


@public
@never_cache
def receipt_link(request, token):
    """The receipt behind the patient's e-mailed link: no login, one receipt only. An expired, altered or
    unknown link answers the patient links' one refused page (410)."""
    try:
        payment_pk = read_token(receipts.LINK_PURPOSE, token)
    except LinkRefused:
        return refused_response(request)
    entry = Payment.objects.select_related(*RECEIPT_ROWS).filter(pk=payment_pk).first()
    if entry is None:
        return refused_response(request)
    pdf = receipts.receipt_pdf(entry, request=request)
    record(
        Action.VIEW,
        request=request,
        obj=entry,
        patient_id=entry.appointment.patient_id,
        detail=f"receipt {entry.receipt_number} opened from the patient's link",
    )
    return pdf_response(pdf, receipts.receipt_filename(entry), inline=True)


def _act(request, pk, action, success):
    appointment = _appointment(pk)
    try:
        action(appointment)
    except booking.BookingError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, success.format(patient=appointment.patient.full_name))
    target = request.POST.get("next", "")
    local = target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    )
    return HttpResponseRedirect(target if local else reverse("appointments:detail", args=[pk]))


@role_required(*DESK)
@require_POST
def check_in(request, pk):
    return _act(
        request,
        pk,
        lambda a: status_changes.check_in(a, by=request.user, request=request),
        "{patient} checked in.",
    )


@role_required(*DESK)
@require_POST
def undo_check_in(request, pk):
    """Take back a check-in made by mistake, with the reason (kept in the history and the audit trail)."""
    form = UndoCheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return redirect("appointments:detail", pk=_appointment(pk).pk)
    return _act(
        request,
        pk,
        lambda a: status_changes.undo_check_in(
            a, by=request.user, reason=form.cleaned_data["reason"], request=request
        ),
        "Check-in undone: {patient} is expected again.",
    )


@role_required(*DESK)
@require_POST
def confirm(request, pk):
    return _act(
        request, pk, lambda a: status_changes.confirm(a, by=request.user, request=request), "Confirmed."
    )


@role_required(*DESK)
@require_POST
def no_show(request, pk):
    return _act(
        request,
        pk,
        lambda a: status_changes.mark_no_show(a, by=request.user, request=request),
        "{patient} marked as a no-show.",
    )


@role_required(*DESK)
@require_POST
def cancel(request, pk):
    form = CancelForm(request.POST)
    if not form.is_valid():
        appointment = _appointment(pk)
        messages.error(request, form.errors["reason"][0])
        return redirect("appointments:detail", pk=appointment.pk)
    return _act(
        request,
        pk,
        lambda a: status_changes.cancel(
            a, by=request.user, reason=form.cleaned_data["reason"], request=request
        ),
        "Cancelled: the time is free again.",
    )


@role_required(*DESK)
def reschedule(request, pk):
    appointment = _appointment(pk)
    show_confirm = ()
    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if form.is_valid():
            start, end = form.start_and_end(form.cleaned_data.get("minutes") or appointment.minutes)
            try:
                booking.reschedule(
                    appointment,
                    start=start,
                    end=end,
                    therapist=form.cleaned_data["therapist"],
                    by=request.user,
                    confirm_outside_hours=form.cleaned_data["confirm_outside_hours"],
                    confirm_past=form.cleaned_data["confirm_past"],
                    request=request,
                )
            except booking.BookingError as error:
                if error.code in CONFIRMABLE:
                    show_confirm = (CONFIRMABLE[error.code],)
                    form = RescheduleForm(request.POST, show_confirm=show_confirm)
                    form.is_valid()
                form.add_error(None, error)
            else:
                appointment.refresh_from_db()
                messages.success(
                    request, f"Rescheduled to {timezone.localtime(appointment.start):%a %d %b at %H:%M}."
                )
                return redirect("appointments:detail", pk=appointment.pk)
    else:
        local = timezone.localtime(appointment.start)
        initial = {
            "therapist": appointment.therapist_id,
            "date": local.date(),
            "time": local.time().replace(second=0, microsecond=0),
            "minutes": appointment.minutes,
        }
        # A "find next available" link fills in its physiotherapist and time (?therapist=&start=).
        chosen = _initial_from(request.GET)
        initial.update({k: chosen[k] for k in ("therapist", "date", "time") if k in chosen})
        form = RescheduleForm(initial=initial)
    return render(request, "appointments/reschedule.html", {"form": form, "appointment": appointment})


# --- schedule settings ---------------------------------------------------------------------------------
@role_required(*SCHEDULES)
def schedules(request):
    """Every physiotherapist's weekly hours and coming time off."""
    people = (
        User.objects.filter(role=Role.PHYSIO)
        .order_by("full_name")
        .prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.select_related("location").prefetch_related("breaks"),
            ),
            Prefetch("time_off", queryset=TimeOff.objects.filter(end__gte=timezone.now()).order_by("start")),
        )
    )
    return render(request, "appointments/schedules.html", {"people": people})


@role_required(*SCHEDULES)
def therapist_schedule(request, pk):
    """Add or remove a physiotherapist's working hours, breaks and time off."""
    therapist = get_object_or_404(User, pk=pk, role=Role.PHYSIO)
    forms_by_kind = {
        "hours": WorkingHoursForm(prefix="hours"),
        "break": BreakForm(prefix="break", therapist=therapist),
        "time_off": TimeOffForm(prefix="time_off"),
    }
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind in RemovalForm.KINDS:
            removal = RemovalForm(request.POST, kind=kind, therapist=therapist)
            if not removal.is_valid():
                raise Http404("No such working hours, break or time off for this physiotherapist.")
            working_time.schedule_entry_remove(
                therapist=therapist,
                entry=removal.cleaned_data["id"],
                what=RemovalForm.NAMES[kind],
                request=request,
            )
            if kind == "remove_hours":
                messages.success(request, "Working hours removed.")
            return redirect("appointments:therapist_schedule", pk=therapist.pk)
        if kind == "hours":
            form = WorkingHoursForm(request.POST, prefix="hours")
            add = partial(working_time.working_hours_add, therapist=therapist)
        elif kind == "break":
            form = BreakForm(request.POST, prefix="break", therapist=therapist)
            add = working_time.break_add
        elif kind == "time_off":
            form = TimeOffForm(request.POST, prefix="time_off")
            add = partial(working_time.time_off_add, therapist=therapist)
        else:
            form = None
        if form is not None:
            if form.is_valid():
                try:
                    saved = add(**form.cleaned_data, request=request)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(request, f"Saved: {saved}.")
                    if kind == "time_off" and (
                        count := selectors.active_appointment_count(
                            therapist=therapist, start=saved.start, end=saved.end
                        )
                    ):
                        messages.warning(
                            request,
                            f"{count} appointment(s) are booked in this time off: the front desk should "
                            "reschedule them (the day view still shows them).",
                        )
                    return redirect("appointments:therapist_schedule", pk=therapist.pk)
            forms_by_kind[kind] = form
    hours = (
        WorkingHours.objects.filter(therapist=therapist).select_related("location").prefetch_related("breaks")
    )
    time_off = TimeOff.objects.filter(therapist=therapist, end__gte=timezone.now()).order_by("start")
    return render(
        request,
        "appointments/therapist_schedule.html",
        {"therapist": therapist, "hours": hours, "time_off": time_off, "forms": forms_by_kind},
    )
