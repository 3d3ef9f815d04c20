"""Online booking: the public pages (/book/, no login) and the front desk's list of the records online
bookings made, to verify or merge. Views parse, call appointments.services.online, and render."""

from datetime import datetime

from django import forms
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
from clinic.patient_links import patient_page
from patients.forms import DateOfBirthField
from patients.models import Patient
from patients.services import search_patients
from patients.validators import validate_date_of_birth

from .models import AppointmentType, Location
from .services import online

FRONT = (Role.FRONT_DESK, Role.ADMIN)
TOO_LONG = "At most %(limit_value)d characters."


class OnlineBookingForm(forms.Form):
    slot = forms.CharField(
        label="Time", error_messages={"required": "Choose one of the free times."}, max_length=80
    )
    given_name = forms.CharField(
        label="Given name",
        max_length=online.MAX_NAME,
        error_messages={"required": "Type your given name.", "max_length": TOO_LONG},
    )
    family_name = forms.CharField(
        label="Family name",
        max_length=online.MAX_NAME,
        error_messages={"required": "Type your family name.", "max_length": TOO_LONG},
    )
    date_of_birth = DateOfBirthField(
        validators=[validate_date_of_birth], error_messages={"required": "Type your date of birth."}
    )
    email = forms.EmailField(
        label="E-mail",
        max_length=online.MAX_EMAIL,
        error_messages={
            "required": "Type your e-mail address: the confirmation goes there.",
            "invalid": "Type a whole e-mail address, such as name@example.com.",
        },
    )
    phone = PhoneNumberField(
        label="Phone",
        help_text="For example 604 555 0123.",
        error_messages={
            "required": "Type a phone number we can reach you at.",
            "invalid": "Type a phone number such as 604 555 0123 (others with their + code).",
        },
    )
    note = forms.CharField(
        label="Anything the front desk should know (optional: parking, an interpreter)",
        required=False,
        max_length=online.MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "At most %(limit_value)d characters (you typed %(show_value)d)."},
    )
    # A field people never see (hidden by the stylesheet): a bot fills it, a person does not.
    website = forms.CharField(required=False, label="Leave this empty", max_length=200)

    def clean_slot(self):
        therapist_id, _, start = self.cleaned_data["slot"].partition("|")
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            moment = None
        if not therapist_id.isdigit() or moment is None or timezone.is_naive(moment):
            raise ValidationError("Choose one of the free times.")
        return int(therapist_id), moment


def _pick(model, value, among):
    if not str(value or "").isdigit():
        return None
    return next((item for item in among if item.pk == int(value)), None)


@public
@never_cache
def locations(request):
    """The clinic's locations, each with its booking page."""
    context = {"locations": list(Location.objects.all())}
    return patient_page(request, "appointments/online/locations.html", context)


@public
@never_cache
def location(request, location_id):
    """One location's booking page: choose a type bookable online and a physiotherapist (or anyone), see the
    next free times, and book with name, date of birth, e-mail and phone."""
    place = get_object_or_404(Location, pk=location_id)
    data = request.POST if request.method == "POST" else request.GET
    types = online.online_types()
    type = _pick(AppointmentType, data.get("type"), types)
    people = online.therapists_at(place, type)
    therapist = _pick(User, data.get("therapist"), people)
    form = OnlineBookingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if type is None:
            form.add_error(None, "Choose the type of appointment.")
        elif form.is_valid():
            therapist_id, start = form.cleaned_data["slot"]
            chosen = User.objects.filter(pk=therapist_id).first()
            try:
                outcome = online.book_online(
                    location=place,
                    type=type,
                    therapist=chosen,
                    start=start,
                    given_name=form.cleaned_data["given_name"],
                    family_name=form.cleaned_data["family_name"],
                    date_of_birth=form.cleaned_data["date_of_birth"],
                    email=form.cleaned_data["email"],
                    phone=form.cleaned_data["phone"],
                    note=form.cleaned_data["note"],
                    honeypot=form.cleaned_data["website"],
                    anyone=therapist is None,
                    client_address=client_ip(request),
                    request=request,
                )
            except online.OnlineBookingRefused as refused:
                if refused.code == "rate_limited":
                    status = 429
                if hasattr(refused, "error_dict"):
                    for field, errors in refused.message_dict.items():
                        for message in errors:
                            form.add_error(field if field in form.fields else None, message)
                else:
                    form.add_error(None, " ".join(refused.messages))
            else:
                context = {"received": outcome.public, "location": place}
                return patient_page(request, "appointments/online/received.html", context)
    slots = online.free_times(location=place, type=type, therapist=therapist) if type else []
    return patient_page(
        request,
        "appointments/online/location.html",
        {
            "location": place,
            "types": types,
            "type": type,
            "people": people,
            "therapist": therapist,
            "slots": slots,
            "form": form,
            "chosen_slot": request.POST.get("slot", ""),
        },
        status,
    )


# --- the front desk ----------------------------------------------------------------------------------
@role_required(*FRONT)
def unverified(request):
    """Patients an online booking registered and nobody has verified yet: verify, or merge into the patient
    they turn out to be."""
    return render(request, "appointments/online/unverified.html", {"patients": online.unverified_patients()})


@role_required(*FRONT)
@require_POST
def verify(request, pk):
    patient = get_object_or_404(Patient, pk=pk)
    try:
        online.verify_online_patient(patient, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{patient.full_name}'s record is verified.")
    return redirect("appointments:online_unverified")


@role_required(*FRONT)
def merge(request, pk):
    """Merge a record an online booking made into an existing patient: search, choose, confirm."""
    patient = get_object_or_404(Patient, pk=pk)
    if request.method == "POST":
        chosen = request.POST.get("into", "")
        into = Patient.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        try:
            online.merge_online_patient(patient, into, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Merged into {into.full_name} ({into.chart_number}).")
            return redirect("appointments:online_unverified")
    query = request.GET.get("q", "").strip()[:100]
    candidates = [p for p in search_patients(query) if p.pk != patient.pk] if query else []
    return render(
        request,
        "appointments/online/merge.html",
        {"patient": patient, "query": query, "candidates": candidates},
    )
