from django import forms
from django.conf import settings

from appointments.models import AppointmentType, Location

from .csvfiles import ENCODINGS
from .layouts import FIELDS
from .models import SourceSystem
from .parsing import DATE_ORDERS


class OptionsFields(forms.Form):
    date_order = forms.ChoiceField(
        label="Dates like 03/04/1985 are written", choices=DATE_ORDERS.items(), initial="auto"
    )
    default_type = forms.ModelChoiceField(
        label="Appointment type for rows whose type is not set up here",
        queryset=AppointmentType.objects.all(),
        required=False,
        empty_label="None: refuse those rows",
    )
    default_location = forms.ModelChoiceField(
        label="Location for rows naming none (or one not set up here)",
        queryset=Location.objects.all(),
        required=False,
        empty_label="The first location",
    )

    def options(self):
        data = self.cleaned_data
        return {
            "date_order": data["date_order"],
            "default_type": data["default_type"].pk if data.get("default_type") else None,
            "default_location": data["default_location"].pk if data.get("default_location") else None,
        }


class ImportForm(OptionsFields):
    source_system = forms.ChoiceField(
        label="Exported from",
        choices=[("", "Work it out from the columns"), *SourceSystem.choices],
        required=False,
    )
    patients_file = forms.FileField(label="Patient list (CSV or XLSX)")
    appointments_file = forms.FileField(label="Appointments (CSV or XLSX, optional)", required=False)
    encoding = forms.ChoiceField(
        label="Encoding (when the file has no byte order mark)", choices=ENCODINGS.items(), initial="utf-8"
    )

    field_order = [
        "source_system",
        "patients_file",
        "appointments_file",
        "encoding",
        "date_order",
        "default_type",
        "default_location",
    ]

    def _check_size(self, name):
        upload = self.cleaned_data.get(name)
        limit = settings.IMPORT_MAX_MEGABYTES
        if upload is not None and upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:.0f} MB; the import reads files of up to "
                f"{limit} MB. "
                "Split it, or export fewer columns."
            )
        return upload

    def clean_patients_file(self):
        return self._check_size("patients_file")

    def clean_appointments_file(self):
        return self._check_size("appointments_file")

    def options(self):
        return {**super().options(), "encoding": self.cleaned_data["encoding"]}


class MappingForm(OptionsFields):
    """One choice per column of each file (the field it fills, or left out), and the options again."""

    def __init__(self, *args, headers, mapping, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns = []
        for kind, names in headers.items():
            choices = [("", "Leave out"), *[(key, label) for key, label, _required in FIELDS[kind]]]
            for index, header in enumerate(names):
                name = f"{kind}-{index}"
                self.fields[name] = forms.ChoiceField(
                    label=header,
                    choices=choices,
                    required=False,
                    initial=mapping.get(kind, {}).get(header, ""),
                )
                self.columns.append((kind, header, name))

    def mapping(self):
        found = {}
        for kind, header, name in self.columns:
            found.setdefault(kind, {})[header] = self.cleaned_data.get(name) or ""
        return found

    def fields_of(self, kind):
        return [self[name] for k, _header, name in self.columns if k == kind]
