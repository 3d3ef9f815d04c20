from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms

from accounts.models import Role, User

from .models import ConsentForm, Region, SignerRelationship
from .services.drafting import RiskText

DECISION_CHOICES = [("accept", "Accept"), ("decline", "Decline")]


class ObtainConsentForm(forms.Form):
    """The current version's risks, each with Accept / Decline and no default, then who explained it,
    who signs and the signature drawn on screen (a data: URL that signature_pad writes into a hidden
    field). The service checks everything again; this form gives the messages beside the fields."""

    explained_by = forms.ModelChoiceField(
        queryset=User.objects.filter(role=Role.PHYSIO, is_active=True),
        label="Explained by",
        help_text="The physiotherapist who explained the risks to the signer.",
    )
    signer_name = forms.CharField(max_length=150, label="Signer's name")
    signer_relationship = forms.ChoiceField(
        choices=SignerRelationship.choices, label="Signer is the", widget=forms.RadioSelect
    )
    signature = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={"required": "The signer has not signed: draw the signature in the box."},
    )
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    form_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, risks, **kwargs):
        super().__init__(*args, **kwargs)
        self.risks = list(risks)
        for risk in self.risks:
            self.fields[self.risk_field(risk)] = forms.ChoiceField(
                choices=DECISION_CHOICES,
                widget=forms.RadioSelect,
                label=risk.title,
                help_text=risk.description,
                error_messages={"required": "Accept or decline this risk."},
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(Div(Field("explained_by"), css_class="col-md"), Div(Field("signer_name"), css_class="col-md"),
                css_class="row"),
            Field("signer_relationship"),
        )  # fmt: skip

    @staticmethod
    def risk_field(risk):
        return f"risk_{risk.pk}"

    def risk_rows(self):
        """(risk, bound field) in the form's order, for the template."""
        return [(risk, self[self.risk_field(risk)]) for risk in self.risks]

    def clean_signature(self):
        value = self.cleaned_data["signature"].strip()
        if not value:
            raise forms.ValidationError("The signer has not signed: draw the signature in the box.")
        return value

    def decisions(self):
        """{risk id: accepted} from the cleaned form."""
        return {risk.pk: self.cleaned_data[self.risk_field(risk)] == "accept" for risk in self.risks}


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for the withdrawal",
        help_text="In the patient's words where possible.",
        max_length=2000,
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the withdrawal.")
        return reason


class DraftForm(forms.ModelForm):
    """A draft version's heading and text; its risks are the RiskFormSet beside it."""

    class Meta:
        model = ConsentForm
        fields = ["title", "version", "effective_date", "body", "requires_reconsent"]
        widgets = {
            "effective_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "body": forms.Textarea(attrs={"rows": 12}),
        }
        error_messages = {
            "body": {"required": "Write the text the patient reads before the risks."},
            "version": {"unique": "Another version already has this number: choose a new one."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class RiskForm(forms.Form):
    order = forms.IntegerField(min_value=0, max_value=999, initial=0, label="Order")
    # No region until one is chosen: the blank row left for a new risk then stays blank, and is ignored.
    region = forms.ChoiceField(choices=[("", "Choose a region"), *Region.choices], label="Region")
    title = forms.CharField(max_length=200, label="Risk")
    description = forms.CharField(
        max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), label="Plain-language description"
    )


class BaseRiskFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not any(risk.region == Region.GENERAL for risk in self.risks()):
            raise forms.ValidationError(
                "A consent form needs the general risks of needling: add a General risk."
            )

    def risks(self):
        """The RiskText of every risk kept (not ticked for removal, not left blank)."""
        return [
            RiskText(
                region=f.cleaned_data["region"],
                title=f.cleaned_data["title"],
                description=f.cleaned_data["description"],
                order=f.cleaned_data["order"],
            )
            for f in self.forms
            if f.cleaned_data and not self._should_delete_form(f)
        ]


RiskFormSet = forms.formset_factory(
    RiskForm, formset=BaseRiskFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
)
