"""The patient's page for an appointment (issue 15), public behind a signed, expiring link: see it, cancel it
or move it up to the cut-off. Views parse, call services/online_links.py, and render."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.access import public
from audit.models import Action
from audit.services import record
from clinic.patient_links import LinkRefused, patient_page

from .services import online_links
from .services.booking import BookingError


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Why are you cancelling? (optional)",
        required=False,
        max_length=online_links.REASON_MAX_LENGTH,
        error_messages={"max_length": "Keep the reason under %(limit_value)d characters."},
    )
    # A field people never see: a bot fills it, a patient does not.
    website = forms.CharField(required=False, label="Leave this empty")


class RescheduleForm(forms.Form):
    slot = forms.ChoiceField(
        label="New time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose one of the times shown.",
            "invalid_choice": "That time is no longer free. Choose another time.",
        },
    )
    website = forms.CharField(required=False, label="Leave this empty")

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [
            (
                online_links.slot_key(s),
                f"{timezone.localtime(s.start):%a %d %b, %H:%M} with {s.therapist}, {s.location.name}",
            )
            for s in slots
        ]


def _page(request, template, context=None, status=200):
    return patient_page(
        request, template, {"cutoff_hours": settings.ONLINE_CHANGE_CUTOFF_HOURS, **(context or {})}, status
    )


@public
@never_cache
def manage_appointment(request, token):
    """The appointment behind the patient's link: when, where, with whom (nothing clinical), and, until the
    cut-off, a cancel form and a choice of free times to move to. An expired, altered or unknown link
    answers one plain page (404) that says nothing about the appointment."""
    try:
        appointment = online_links.appointment_from_token(token)
    except LinkRefused:
        return _page(
            request, "appointments/patient/link_refused.html", {"link_days": settings.PATIENT_LINK_DAYS}, 404
        )
    anyone = request.GET.get("with") == "anyone" or request.POST.get("with") == "anyone"
    refusal = online_links.change_refusal(appointment)
    cancel_form = CancelForm()
    slots = [] if refusal else online_links.slots_for_patient(appointment, anyone=anyone)
    reschedule_form = RescheduleForm(slots=slots)
    status = 200
    done = page_error = None
    if request.method == "POST" and refusal is None:
        action = request.POST.get("action")
        form = None
        if action == "cancel":
            form = cancel_form = CancelForm(request.POST)
        elif action == "reschedule":
            form = reschedule_form = RescheduleForm(request.POST, slots=slots)
        status = 400
        if form is not None and form.is_valid():
            if form.cleaned_data["website"]:
                # A bot: nothing changed, and nothing to tell it apart from a refused form.
                form.add_error(None, "Something went wrong; please call us.")
            else:
                try:
                    if action == "cancel":
                        online_links.cancel_by_patient(
                            appointment, reason=form.cleaned_data["reason"], request=request
                        )
                        done = "cancel"
                    else:
                        online_links.reschedule_by_patient(
                            appointment, slot=form.cleaned_data["slot"], anyone=anyone, request=request
                        )
                        done = "move"
                except BookingError as error:
                    form.add_error(None, " ".join(error.messages))
                else:
                    appointment = online_links.appointment_from_token(token)
                    refusal = online_links.change_refusal(appointment)
                    slots = [] if refusal else online_links.slots_for_patient(appointment, anyone=anyone)
                    cancel_form, reschedule_form = CancelForm(), RescheduleForm(slots=slots)
                    status = 200
        elif form is None:
            page_error = "Choose to cancel or to move the appointment."
    elif request.method == "POST":
        status = 409
    if request.method == "GET":
        record(
            Action.VIEW,
            request=request,
            obj=appointment,
            patient_id=appointment.patient_id,
            detail="appointment opened from the patient's link",
        )
    return _page(
        request,
        "appointments/patient/manage.html",
        {
            "appointment": appointment,
            "start": timezone.localtime(appointment.start),
            "end": timezone.localtime(appointment.end),
            "refusal": refusal,
            "deadline": timezone.localtime(online_links.change_deadline(appointment)),
            "cancel_form": cancel_form,
            "reschedule_form": reschedule_form,
            "anyone": anyone,
            "just_cancelled": done == "cancel",
            "just_moved": done == "move",
            "page_error": page_error,
        },
        status,
    )
