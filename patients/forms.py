from datetime import date, datetime

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms

from .dates import EXAMPLE, TYPED_AS, parse_date_of_birth
from .models import SCREENING_ITEMS, SITE_ITEMS, BodyRegion, Patient, Screening, SiteSide

PATIENT_FIELDS = [
    "given_name",
    "preferred_name",
    "family_name",
    "date_of_birth",
    "sex",
    "gender",
    "phone",
    "phone_alternate",
    "email",
    "address",
    "phn",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "referral_source",
]


def row(*names):
    return Div(*[Div(Field(name), css_class="col-md") for name in names], css_class="row")


class DateOfBirthField(forms.DateField):
    """A date of birth typed as YYYY-MM-DD (patients/dates.py: what else it takes, what it refuses), in
    a plain text box: a browser's date picker shows the date in its own locale's order, which is the
    ambiguity this field exists to remove."""

    widget = forms.DateInput(format="%Y-%m-%d", attrs={"placeholder": TYPED_AS, "autocomplete": "bday"})

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Date of birth")
        kwargs.setdefault("help_text", f"{TYPED_AS}, for example {EXAMPLE}.")
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return parse_date_of_birth(value)


class PatientForm(forms.ModelForm):
    date_of_birth = DateOfBirthField()
    # Longer than the 10 digits stored: people type PHNs with spaces as printed on the card.
    phn = forms.CharField(
        label="BC Personal Health Number",
        required=False,
        max_length=16,
        help_text="Optional. Ten digits starting with 9.",
    )
    register_anyway = forms.BooleanField(
        required=False,
        label="Register anyway: I checked the existing record and this is a different person",
    )

    class Meta:
        model = Patient
        fields = PATIENT_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"phone": "Canadian numbers may be typed as 604 555 0123; others with their + code."}

    def __init__(self, *args, show_register_anyway=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phn"].widget.attrs.update({"inputmode": "numeric"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        parts = [
            Fieldset(
                "Patient",
                row("given_name", "preferred_name", "family_name"),
                row("date_of_birth", "sex", "gender"),
                row("phn", "referral_source"),
            ),
            Fieldset("Contact", row("phone", "phone_alternate", "email"), "address"),
            Fieldset(
                "Emergency contact",
                row("emergency_contact_name", "emergency_contact_phone", "emergency_contact_relationship"),
            ),
        ]
        if show_register_anyway:
            parts.insert(0, Field("register_anyway"))
        else:
            del self.fields["register_anyway"]
        self.helper.layout = Layout(*parts)

    def clean_phn(self):
        # People type PHNs with spaces as printed on the card (9123 456 789).
        phn = "".join(self.cleaned_data["phn"].split())
        if phn:
            holder = Patient.objects.filter(phn=phn).exclude(pk=self.instance.pk).first()
            if holder is not None:
                raise forms.ValidationError(
                    f"Another patient (chart {holder.chart_number}) already has this "
                    "BC Personal Health Number: open that record instead.",
                    code="phn_taken",
                )
        return phn


YES_NO = [("yes", "Yes"), ("no", "No")]


class ScreeningForm(forms.ModelForm):
    """Each item must be answered yes or no (no default: an unasked question is not a "no"). An item
    that names a site (lymphoedema, recent surgery, infection) records where: body regions and a side, so
    that only that site is refused; with none named, the whole session is (the site is unknown)."""

    class Meta:
        model = Screening
        fields = [name for key, _label in SCREENING_ITEMS for name in (key, f"{key}_note")] + [
            name for key in SITE_ITEMS for name in (f"{key}_site", f"{key}_side")
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in SCREENING_ITEMS:
            self.fields[key] = forms.TypedChoiceField(
                label=label,
                choices=YES_NO,
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
                required=True,
                error_messages={"required": f"Answer yes or no: {label.lower()}."},
            )
            self.fields[f"{key}_note"].widget.attrs.update(
                {"placeholder": "Note (optional)", "aria-label": f"{label}: note"}
            )
            self.fields[f"{key}_note"].label = ""
        for key in SITE_ITEMS:
            self.fields[f"{key}_site"] = forms.MultipleChoiceField(
                label="Where (if yes)",
                choices=BodyRegion.choices,
                required=False,
                widget=forms.SelectMultiple(attrs={"size": 4, "aria-label": f"{key}: where"}),
                help_text="Name the site: only it is refused. None named: every point is.",
            )
            self.fields[f"{key}_side"] = forms.ChoiceField(
                label="Side",
                choices=[("", "—")] + list(SiteSide.choices),
                required=False,
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        rows = []
        for key, _label in SCREENING_ITEMS:
            parts = [
                Div(InlineRadios(key), css_class="col-md-5"),
                Div(Field(f"{key}_note"), css_class="col-md-4" if key in SITE_ITEMS else "col-md-7"),
            ]
            if key in SITE_ITEMS:
                parts.append(
                    Div(Field(f"{key}_site"), Field(f"{key}_side"), css_class="col-md-3", data_site=key)
                )
            rows.append(Div(*parts, css_class="row border-bottom pt-2"))
        self.helper.layout = Layout(*rows)

    def clean(self):
        cleaned = super().clean()
        for key in SITE_ITEMS:
            if not cleaned.get(key):
                # A site belongs to a yes: a "no" keeps none, whatever was ticked.
                cleaned[f"{key}_site"] = []
                cleaned[f"{key}_side"] = ""
        return cleaned


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Why do you need this chart?",
        min_length=10,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: covering for Dr Okafor's patient today; called about a side effect.",
        error_messages={
            "required": "Say why you need this chart.",
            "min_length": "Say why you need this chart (at least 10 characters).",
        },
    )
