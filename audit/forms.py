from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Action


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, required=False, label="Staff member")
    patient = forms.CharField(
        required=False,
        max_length=100,
        label="Patient",
        help_text="Chart number or name.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    action = forms.ChoiceField(choices=[("", "Any action"), *Action.choices], required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.order_by("full_name")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        # The period as instants: from the clinic's midnight starting date_from to the one ending date_to.
        # The last day a date can hold (9999-12-31) has no next midnight: it means no end at all.
        cleaned["since"] = local_midnight(start) if start else None
        cleaned["until"] = local_midnight(end + timedelta(days=1)) if end and end < date.max else None
        return cleaned


def local_midnight(day):
    return timezone.make_aware(datetime.combine(day, time.min))
