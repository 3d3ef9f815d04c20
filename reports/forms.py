from django import forms

from accounts.models import Role

from .filters import ReportFilterForm

NAMES_REFUSED = "Only an administrator can export patient names; exports show chart numbers."


class ExportForm(ReportFilterForm):
    """The report filters plus, for administrators only, patient names (others do not see the box, and
    a request that asks anyway is refused with a message)."""

    names = forms.BooleanField(label="Include patient names", required=False)

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
