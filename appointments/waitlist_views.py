"""The waitlist's pages: the public join form and the offer behind a signed link (no login), and the desk's
list, join-for-a-patient and remove. Views parse, call services/waitlist.py, and render."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from phonenumber_field.formfields import PhoneNumberField

from accounts.access import public, role_required
from accounts.models import Role, User
from audit.services import client_ip
from clinic.patient_links import LinkRefused, patient_page
from patients.models import Patient

from .forms import TherapistChoiceField
from .models import AppointmentType, Location, WaitlistEntry, WaitlistStatus
from .services import waitlist

DESK = (Role.FRONT_DESK, Role.ADMIN)
LIST_LIMIT = 200


class WaitForm(forms.Form):
    """What the entry waits for: the type, the location, a physiotherapist or anyone, and dates."""

    type = forms.ModelChoiceField(
        label="Appointment",
        queryset=AppointmentType.objects.filter(active=True),
        error_messages={
            "required": "Choose an appointment type.",
            "invalid_choice": "Choose an appointment type.",
        },
    )
    location = forms.ModelChoiceField(
        label="Location",
        queryset=Location.objects.all(),
        error_messages={"required": "Choose a location.", "invalid_choice": "Choose a location."},
    )
    therapist = TherapistChoiceField(
        label="Physiotherapist",
        required=False,
        empty_label="Anyone",
        queryset=User.objects.filter(role=Role.PHYSIO, is_active=True).order_by("full_name"),
        error_messages={"invalid_choice": "Choose a physiotherapist, or anyone."},
    )
    earliest = forms.DateField(
        label="From (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Give the date as YYYY-MM-DD."},
    )
    latest = forms.DateField(
        label="Until (optional: empty means any time)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Give the date as YYYY-MM-DD."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if select else "form-control")


class PublicJoinForm(WaitForm):
    given_name = forms.CharField(label="First name", max_length=100)
    family_name = forms.CharField(label="Last name", max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth (YYYY-MM-DD)", error_messages={"invalid": "Give the date as YYYY-MM-DD."}
    )
    email = forms.EmailField(label="E-mail", max_length=254)
    phone = PhoneNumberField(label="Phone", required=False)
    # A field people never see: a bot fills it, a patient does not.
    website = forms.CharField(required=False, label="Leave this empty")

    field_order = ["given_name", "family_name", "date_of_birth", "email", "phone"]


def _apply(form, error):
    for field, errors in (
        error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
    ):
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


@public
@never_cache
def join(request):
    """The public form to join the waitlist. The answer is the same whoever joins (it never says whether
    someone is a patient); a bot filling the hidden field is told something went wrong; nothing saved."""
    form = PublicJoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            form.add_error(None, "Something went wrong; please call us.")
        else:
            try:
                waitlist.join_waitlist(
                    given_name=data["given_name"],
                    family_name=data["family_name"],
                    date_of_birth=data["date_of_birth"],
                    email=data["email"],
                    phone=data["phone"] or "",
                    type=data["type"],
                    location=data["location"],
                    therapist=data["therapist"],
                    earliest=data["earliest"],
                    latest=data["latest"],
                    request=request,
                    client_address=client_ip(request),
                )
            except ValidationError as error:
                _apply(form, error)
            else:
                return patient_page(request, "appointments/waitlist/joined.html")
    status = 400 if request.method == "POST" else 200
    return patient_page(request, "appointments/waitlist/join.html", {"form": form}, status)


@public
@never_cache
def offer(request, token):
    """The offer behind the link in the e-mail: the time, and a button to book it. The first to accept
    gets it; anyone later is told it is taken and stays on the list. A link that is not ours: 404."""
    try:
        found = waitlist.offer_from_token(token)
    except LinkRefused:
        return patient_page(
            request, "appointments/patient/link_refused.html", {"link_days": settings.PATIENT_LINK_DAYS}, 404
        )
    context = {
        "offer": found,
        "start": timezone.localtime(found.start),
        "end": timezone.localtime(found.end),
    }
    entry = found.entry
    if found.accepted_at is not None:
        return patient_page(request, "appointments/waitlist/booked.html", context)
    if entry.status != WaitlistStatus.WAITING or found.start <= timezone.now():
        return patient_page(
            request, "appointments/waitlist/taken.html", context, 409 if request.method == "POST" else 200
        )
    if request.method == "POST":
        try:
            waitlist.accept_offer(found, request=request)
        except waitlist.OfferTaken:
            return patient_page(request, "appointments/waitlist/taken.html", context, 409)
        return patient_page(request, "appointments/waitlist/booked.html", context)
    return patient_page(request, "appointments/waitlist/offer.html", context)


@role_required(*DESK)
def desk_list(request):
    """Everyone waiting, oldest first (the order offers follow), for the desk to read and remove."""
    entries = list(
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING)
        .select_related("type", "location", "therapist", "patient")
        .order_by("created_at", "id")[:LIST_LIMIT]
    )
    return render(request, "appointments/waitlist/list.html", {"entries": entries, "limit": LIST_LIMIT})


@role_required(*DESK)
def desk_add(request):
    """Put a registered patient (?patient=<id>) on the waitlist, from the chart or the booking page."""
    chosen = request.GET.get("patient", "")
    patient = get_object_or_404(Patient, pk=int(chosen) if chosen.isdigit() and len(chosen) < 12 else 0)
    form = WaitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            waitlist.join_waitlist(
                given_name=patient.given_name,
                family_name=patient.family_name,
                date_of_birth=patient.date_of_birth,
                email=patient.email,
                phone=str(patient.phone or ""),
                type=data["type"],
                location=data["location"],
                therapist=data["therapist"],
                earliest=data["earliest"],
                latest=data["latest"],
                patient=patient,
                by=request.user,
                request=request,
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, f"{patient.full_name} is on the waitlist.")
            return redirect("appointments:waitlist")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "appointments/waitlist/add.html", {"form": form, "patient": patient}, status=status
    )


@role_required(*DESK)
@require_POST
def desk_remove(request, pk):
    """Take an entry off the waitlist (kept, marked removed; audited)."""
    entry = get_object_or_404(WaitlistEntry, pk=pk)
    try:
        waitlist.remove_entry(entry, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{entry.full_name} is off the waitlist.")
    return redirect("appointments:waitlist")
