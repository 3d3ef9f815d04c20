from django import forms

from accounts.models import Role

from .filters import ReportFilterForm

NAMES_REFUSED = "Only an administrator can export patient names; exports show chart numbers."


class FlagInput(forms.CheckboxInput):
    """A checkbox that also reads a link's codes=1 / codes=0 (Django's reads "0" as ticked)."""

    def value_from_datadict(self, data, files, name):
        return str(data.get(name, "")).strip().lower() not in ("", "0", "false", "off", "no")


class ExportForm(ReportFilterForm):
    """The report filters plus, for administrators only, patient names (others do not see the box, and
    a request that asks anyway is refused with a message), and codes instead of labels (`codes=1`)."""

    names = forms.BooleanField(label="Include patient names", required=False)
    codes = forms.BooleanField(
        label="Codes instead of labels",
        required=False,
        widget=FlagInput,
        help_text="For analysts: internal codes (L, completed, t/f) instead of Left, Completed, Yes/No.",
    )

    def __init__(self, data=None, *, user, **kwargs):
        self.user = user
        super().__init__(data, **kwargs)
        if not user.has_role(Role.ADMIN):
            self.fields["names"].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("names") and not self.user.has_role(Role.ADMIN):
            self.add_error(None, NAMES_REFUSED)
        return cleaned
