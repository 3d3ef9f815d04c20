from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from accounts.models import Role, User
from patients.models import Patient

from .models import Appointment, AppointmentType, Break, Location, PaymentMethod, TimeOff, WorkingHours


class TherapistChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


def physiotherapists():
    return User.objects.filter(role=Role.PHYSIO, is_active=True).order_by("full_name")


def _aware(day, clock):
    return timezone.make_aware(datetime.combine(day, clock))


class WhenFields(forms.Form):
    """Date, start time and (optionally) length: shared by booking and rescheduling."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"))
    minutes = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=480,
        label="Length (minutes)",
        help_text="Leave empty for the type's usual length.",
    )
    confirm_outside_hours = forms.BooleanField(required=False, label="Book outside working hours")
    confirm_past = forms.BooleanField(required=False, label="Book in the past")

    def clean_date(self):
        day = self.cleaned_data["date"]
        today = timezone.localdate()
        if (
            not today.replace(year=today.year - 10, day=min(today.day, 28))
            <= day
            <= today.replace(year=today.year + 5, day=min(today.day, 28))
        ):
            raise forms.ValidationError("Choose a date within ten years back and five years ahead.")
        return day

    def __init__(self, *args, show_confirm=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The confirmations appear only with the message that asks for them.
        for name in ("confirm_outside_hours", "confirm_past"):
            if name not in show_confirm and not self.data.get(name):
                self.fields[name].widget = forms.HiddenInput()

    def start_and_end(self, default_minutes):
        data = self.cleaned_data
        start = _aware(data["date"], data["time"])
        return start, start + timedelta(minutes=data.get("minutes") or default_minutes)


class BookingForm(WhenFields):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.filter(archived_at__isnull=True),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Find and choose the patient.",
            "invalid_choice": "That patient is not on file (or is archived). Search again.",
        },
    )
    therapist = TherapistChoiceField(
        queryset=physiotherapists(),
        label="Physiotherapist",
        error_messages={"invalid_choice": "That physiotherapist is not on file. Choose one from the list."},
    )
    type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(active=True), label="Appointment type"
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(),
        required=False,
        help_text="Empty: where the physiotherapist works then.",
    )
    notes = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Booking notes only (interpreter, parking); nothing clinical.",
    )

    field_order = ["patient", "type", "therapist", "date", "time", "minutes", "location", "notes"]

    def __init__(self, *args, patient_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = physiotherapists()
        # The radio buttons list only the chosen patient; the quick search adds others beside them.
        self.fields["patient"].choices = [(p.pk, str(p)) for p in patient_choices]


class RescheduleForm(WhenFields):
    therapist = TherapistChoiceField(queryset=physiotherapists(), label="Physiotherapist")

    field_order = ["therapist", "date", "time", "minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = physiotherapists()


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "Why (patient phoned sick, clinic closed...)"}),
        error_messages={"required": "Give a reason for the cancellation."},
    )


class UndoCheckInForm(forms.Form):
    reason = forms.CharField(
        max_length=250,
        widget=forms.TextInput(attrs={"placeholder": "Why (wrong patient, wrong day...)"}),
        error_messages={"required": "Give a reason for undoing the check-in."},
    )


class NextAvailableForm(forms.Form):
    type = forms.ModelChoiceField(
        queryset=AppointmentType.objects.filter(active=True), label="Appointment type"
    )
    therapist = TherapistChoiceField(queryset=physiotherapists(), required=False, empty_label="Anyone")
    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), required=False, widget=forms.HiddenInput)
    # Rescheduling: the appointment being moved (its own time counts as free; the slots link back to it).
    appointment = forms.ModelChoiceField(
        queryset=Appointment.objects.all(), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = physiotherapists()


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end", "location"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class BreakForm(forms.ModelForm):
    class Meta:
        model = Break
        fields = ["working_hours", "start", "end", "label"]
        widgets = {
            "start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, therapist=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["working_hours"].queryset = WorkingHours.objects.filter(therapist=therapist)


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ["start", "end", "reason"]
        widgets = {
            "start": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "end": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }


class RemovalForm(forms.Form):
    """Which of a physiotherapist's working hours, breaks or time off to remove: `id` must name one of
    theirs (anything else, "abc" or another therapist's row alike, is not a valid choice)."""

    id = forms.ModelChoiceField(queryset=WorkingHours.objects.none())

    KINDS = {
        "remove_hours": lambda therapist: WorkingHours.objects.filter(therapist=therapist),
        "remove_break": lambda therapist: Break.objects.filter(working_hours__therapist=therapist),
        "remove_time_off": lambda therapist: TimeOff.objects.filter(therapist=therapist),
    }
    NAMES = {"remove_hours": "working hours", "remove_break": "break", "remove_time_off": "time off"}

    def __init__(self, data, *, kind, therapist):
        super().__init__(data)
        self.fields["id"].queryset = self.KINDS[kind](therapist)


def _amount_field():
    # Text, not a number input: the service's own messages (clean_amount) explain what is wrong.
    return forms.CharField(
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages={"required": "Enter the amount."},
    )


class PaymentForm(forms.Form):
    """The desk marks a visit paid: the amount (the appointment type's fee to start with) and how."""

    amount = _amount_field()
    method = forms.ChoiceField(
        choices=[("", "How was it paid?"), *PaymentMethod.choices],
        error_messages={
            "required": "Choose how the patient paid.",
            "invalid_choice": "Choose how the patient paid.",
        },
    )

    def clean_amount(self):
        from .services.payments import PaymentError, clean_amount

        try:
            return clean_amount(self.cleaned_data["amount"])
        except PaymentError as error:
            raise forms.ValidationError(error.messages[0]) from None


class RefundForm(PaymentForm):
    """Give back part or all of one payment, with the reason."""

    method = None
    payment = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "Why (overcharged, visit cancelled...)"}),
        error_messages={"required": "Give a reason for the refund."},
    )
