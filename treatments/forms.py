from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError

from .catalogue import LUNG_FIELD_SHORT
from .models import (
    CLINICAL_NOTE,
    INCIDENT_NOTE,
    PSFS_MAX_ACTIVITIES,
    ContactMethod,
    IncidentEntryKind,
    Muscle,
    NeedlePoint,
    NeedleSize,
    NeedlingSession,
    Side,
    SideEffect,
)
from .outcomes import ACTIVITY_MAX, check_activities
from .rendered import RenderedOnce
from .selectors import point_catalogue
from .services import DRAFT_FIELDS, POINT_FIELDS, SIDE_EFFECT_FIELDS
from .widgets import RENDERER
from .widgets import Select as RememberedSelect

# The session screen's forms write each field through this template: crispy's own, rendered once per
# distinct content (treatments/templatetags/session_fields.py).
FIELD_ONCE = "treatments/_field.html"


def row(*names, template=None):
    return Div(*[Div(Field(name, template=template), css_class="col-md") for name in names], css_class="row")


def screen_row(*names):
    """A row of the session screen's forms, each field written through FIELD_ONCE."""
    return row(*names, template=FIELD_ONCE)


class AssessmentForm(forms.ModelForm):
    """The draft's assessment and after-treatment fields; `version` is the one the page was opened at."""

    default_renderer = RENDERER  # the session screen's widgets written in Python (treatments/widgets.py)

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = NeedlingSession
        fields = DRAFT_FIELDS
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in [
                "presenting_complaint",
                "history",
                "rom_findings",
                "impression",
                "plan",
                "movement_change",
                "immediate_response",
                "aftercare_notes",
            ]
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        for name in ("pain_before", "pain_after"):
            self.fields[name].widget.attrs.update({"min": 0, "max": 10, "inputmode": "numeric"})
        self.fields["review_on"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        for name in ("needles_in", "needles_out"):
            self.fields[name].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's <form> holds the request's own token
        self.helper.field_template = FIELD_ONCE
        self.helper.layout = Layout(
            Fieldset(
                "Assessment",
                screen_row("presenting_complaint", "history"),
                screen_row("pain_before", "rom_findings"),
                screen_row("impression", "plan"),
                screen_row("review_on"),
                "screening_reviewed",
            ),
            Fieldset(
                "After treatment",
                screen_row("pain_after", "movement_change", "immediate_response"),
                "aftercare_heat_hydration",
                "aftercare_warning_signs",
                "aftercare_notes",
            ),
            Fieldset("Needles", screen_row("needles_in", "needles_out"), "sharps_disposed"),
            "version",
        )

    def changes(self):
        return {name: self.cleaned_data[name] for name in DRAFT_FIELDS}


class MuscleChoiceField(forms.ModelChoiceField):
    """Each muscle with its risk region and, over the lung fields, its published advisory depth or, where
    no source gives one, the lung-field prompt instead of a number (treatments/catalogue.py)."""

    def label_from_instance(self, muscle):
        risk = f" (risk: {muscle.get_risk_region_display().split(' ')[0].lower()})" if muscle.is_risk else ""
        if muscle.advisory_max_depth_mm is not None:
            guide = f" · advisory max {muscle.advisory_max_depth_mm.normalize():f} mm"
        elif muscle.over_lung_field:
            guide = f" · {LUNG_FIELD_SHORT}"
        else:
            guide = ""
        return f"{muscle.name}{risk}{guide}"


# The choices written of the catalogue's rows, kept under the digest of those rows (the rows themselves are
# kept so by treatments.selectors.point_catalogue): the same rows give the same choices.
CATALOGUE_CHOICES = RenderedOnce(size=64)


def _catalogue_choices(field, rows, digest):
    """[(value, label)] of `rows` as `field` offers them; made once per digest of the rows."""
    if digest is None:
        return [field.choices.choice(row) for row in rows]
    field_class = type(field)
    return CATALOGUE_CHOICES.get(
        [f"{field_class.__module__}.{field_class.__qualname__}", field.to_field_name, digest],
        lambda: [field.choices.choice(row) for row in rows],
    )


class PointForm(forms.ModelForm):
    """One needle point row. `region` narrows the muscle list to a body chart region."""

    default_renderer = RENDERER  # the session screen's widgets written in Python (treatments/widgets.py)

    # The muscles' select (and each other select) written once per distinct content (treatments/widgets.py).
    muscle = MuscleChoiceField(queryset=Muscle.objects.none(), widget=RememberedSelect)

    class Meta:
        model = NeedlePoint
        fields = POINT_FIELDS
        widgets = {
            "depth_mm": forms.NumberInput(attrs={"step": "0.5", "min": "0.5"}),
            "notes": forms.TextInput(),
            **dict.fromkeys(
                ["side", "segment", "needle_size", "technique", "twitch_response", "patient_response"],
                RememberedSelect,
            ),
        }
        labels = {"depth_confirmed": "Depth beyond the advisory maximum confirmed"}

    def __init__(self, *args, region=None, carried_needle=None, catalogue=None, **kwargs):
        """`catalogue`: the muscles of `region` and the needle sizes (treatments.selectors.point_catalogue),
        when the caller has read them already; read here otherwise (one query)."""
        super().__init__(*args, **kwargs)
        # No silent default in a clinical field: the side is chosen for each point (a click on one side
        # of the body chart chooses it), and a needle size carried over from the last point says so.
        self.fields["side"].choices = [("", "Choose side")] + list(Side.choices)
        self.fields["side"].error_messages["required"] = "Choose the side of this point."
        if carried_needle is not None and not self.is_bound:
            self.initial["needle_size"] = carried_needle.pk
            self.fields[
                "needle_size"
            ].help_text = (
                f"Carried over from your last point ({carried_needle}): check it is the needle in your hand."
            )
            self.carried_needle = carried_needle
        muscles = Muscle.objects.filter(active=True)
        if region:
            muscles = muscles.filter(body_region=region)
        self.fields["muscle"].queryset = muscles.order_by("name")
        self.fields["needle_size"].queryset = NeedleSize.objects.filter(active=True)
        # The querysets validate a posted point; the choices shown are read once, both lists in one round
        # trip (fixed SQL, treatments/selectors.py): the widget would otherwise count the catalogue and
        # read it through a server-side cursor each time it is written (the session screen writes it twice).
        if catalogue is None:
            catalogue = point_catalogue(region=region)
        for name, rows, digest in (
            ("muscle", catalogue.muscles, catalogue.muscles_digest),
            ("needle_size", catalogue.needle_sizes, catalogue.needles_digest),
        ):
            field = self.fields[name]
            blank = [("", field.empty_label)] if field.empty_label is not None else []
            field.widget.choices = blank + _catalogue_choices(field, rows, digest)
        self.fields["segment"].required = False
        self.fields["insertions"].widget.attrs.update({"min": 1})
        # No autofocus: on page load it scrolled a tablet past the screening flags and consent banner;
        # treatments/session.js puts the cursor on the muscle after each point or body chart tap instead.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.field_template = FIELD_ONCE


class SideEffectForm(forms.ModelForm):
    default_renderer = RENDERER  # the session screen's widgets written in Python (treatments/widgets.py)

    class Meta:
        model = SideEffect
        fields = SIDE_EFFECT_FIELDS
        widgets = dict.fromkeys(["type", "severity", "onset"], RememberedSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "Choose severity")] + list(self.fields["severity"].choices)[
            1:
        ]
        self.fields["severity"].error_messages["required"] = (
            "Choose the severity: mild, significant or serious."
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.field_template = FIELD_ONCE
        self.helper.layout = Layout(
            screen_row("type", "severity", "onset"),
            screen_row("duration", "action_taken", "description"),
            "resolved",
        )


class RemovePointForm(forms.Form):
    reason = forms.CharField(
        label="Why is this point removed?",
        max_length=300,
        error_messages={"required": "Say why the point is removed (for example: entered on the wrong side)."},
    )


class IncidentEntryForm(forms.Form):
    kind = forms.ChoiceField(label="What", choices=[("", "Choose")] + list(IncidentEntryKind.choices))
    contact_method = forms.ChoiceField(
        label="How (for a follow-up contact)",
        choices=[("", "—")] + list(ContactMethod.choices),
        required=False,
    )
    text = forms.CharField(
        label="What was done or said", widget=forms.Textarea(attrs={"rows": 2}), max_length=INCIDENT_NOTE
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(row("kind", "contact_method"), "text")


class CloseIncidentForm(forms.Form):
    note = forms.CharField(
        label="Outcome",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=INCIDENT_NOTE,
        help_text="How it ended for the patient, and anything the clinic changes because of it.",
        error_messages={"required": "Say how the incident ended (the patient's outcome)."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class AddendumForm(forms.Form):
    default_renderer = RENDERER  # the session screen's widgets written in Python (treatments/widgets.py)

    text = forms.CharField(
        label="Addendum",
        max_length=CLINICAL_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the addendum's text."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's <form> holds the request's own token
        self.helper.field_template = FIELD_ONCE


class PSFSForm(forms.Form):
    """The Patient-Specific Functional Scale: up to five activities, each scored 0 to 10. Offered with
    the activities of the last scoring, word for word, so each keeps its own trend."""

    SCORE_ERROR = "Score each activity with a whole number from 0 (unable) to 10 (able as before)."

    def __init__(self, *args, activities=(), **kwargs):
        super().__init__(*args, **kwargs)
        for number in range(1, PSFS_MAX_ACTIVITIES + 1):
            self.fields[f"activity_{number}"] = forms.CharField(
                label=f"Activity {number}",
                max_length=ACTIVITY_MAX,
                required=False,
                initial=activities[number - 1] if number <= len(activities) else "",
            )
            self.fields[f"score_{number}"] = forms.IntegerField(
                label=f"Score {number} (0-10)",
                required=False,
                min_value=0,
                max_value=10,
                error_messages={
                    "invalid": self.SCORE_ERROR,
                    "min_value": self.SCORE_ERROR,
                    "max_value": self.SCORE_ERROR,
                },
                widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            *[
                Div(
                    Div(Field(f"activity_{n}"), css_class="col-md-9"),
                    Div(Field(f"score_{n}"), css_class="col-md-3"),
                    css_class="row",
                )
                for n in range(1, PSFS_MAX_ACTIVITIES + 1)
            ]
        )

    def clean(self):
        cleaned = super().clean()
        pairs = []
        for number in range(1, PSFS_MAX_ACTIVITIES + 1):
            name, score = cleaned.get(f"activity_{number}", ""), cleaned.get(f"score_{number}")
            if f"score_{number}" in self.errors:
                continue
            if name and score is None:
                self.add_error(f"score_{number}", f"Score “{name}” from 0 to 10, or clear the activity.")
            elif score is not None or name:
                pairs.append((name, score))
        if not self.errors:
            try:
                self.activities = check_activities(pairs)
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from None
        return cleaned


class HandoutEmailForm(forms.Form):
    """E-mailing the aftercare handout after signing: as a link or attached, and again if the patient asks."""

    handout = forms.ChoiceField(
        label="E-mail the aftercare handout",
        choices=[("link", "As a link"), ("attach", "Attached")],
        error_messages={
            "required": "Choose how to e-mail the aftercare handout.",
            "invalid_choice": "Choose how to e-mail the aftercare handout: as a link or attached.",
        },
    )
    again = forms.BooleanField(label="Send it again (the patient asked for it)", required=False)
    # The page's own id for a resend (a UUID): the same page posted twice sends it once.
    resend_id = forms.UUIDField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("again") and not cleaned.get("resend_id"):
            raise forms.ValidationError("Reload the session page and send the handout again from there.")
        return cleaned


class SignForm(forms.Form):
    """Signing, with what to do with the patient's aftercare handout. The e-mail choices are offered only
    when the patient has an e-mail address on file."""

    default_renderer = RENDERER  # the session screen's widgets written in Python (treatments/widgets.py)

    handout = forms.ChoiceField(
        label="Aftercare handout",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose what to do with the aftercare handout."},
    )

    def __init__(self, *args, patient, **kwargs):
        from .aftercare import EMAILED, HandoutChoice

        super().__init__(*args, **kwargs)
        choices = [(value, label) for value, label in HandoutChoice.choices]
        if not patient.email:
            choices = [(value, label) for value, label in choices if value not in EMAILED]
        self.fields["handout"].choices = choices
        # Not now unless chosen: signing alone still leaves the clinician on the session, as it always did.
        self.fields["handout"].initial = HandoutChoice.NONE
        self.fields["handout"].required = False

    def clean_handout(self):
        from .aftercare import HandoutChoice

        # A sign form from before the handout (an open tab) signs with "Not now".
        return self.cleaned_data["handout"] or HandoutChoice.NONE
