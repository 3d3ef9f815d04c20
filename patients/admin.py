from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.dateformat import format as date_format

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.admin import AuditedChangesAdmin, AuditedOpenAdmin, ViewOnlyAdmin

from .dates import DATE_OF_BIRTH_FORMAT
from .forms import PATIENT_FIELDS, DateOfBirthField
from .models import SCREENING_ITEMS, SITE_ITEMS, Patient, Screening, ScreeningRule
from .services import archive_patient


class PatientAdminForm(forms.ModelForm):
    # The admin takes a date of birth as every other form does (YYYY-MM-DD; patients/dates.py), not as
    # the locale's input formats would (en-CA's include a two-digit year).
    date_of_birth = DateOfBirthField()

    class Meta:
        model = Patient
        fields = [*PATIENT_FIELDS, "online_unverified"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ("chart_number", "family_name", "given_name", "born", "phone", "archived_at")
    list_filter = ("archived_at", "online_unverified")
    search_fields = ("chart_number", "family_name", "given_name", "phn", "phone_digits")
    readonly_fields = ("chart_number", "archived_at", "created_at", "created_by")
    actions = ["archive_selected"]
    list_per_page = 50

    @admin.display(description="date of birth", ordering="date_of_birth")
    def born(self, patient):
        # YYYY-MM-DD as everywhere else (patients/dates.py), not the locale's "12 Apr 1985".
        return date_format(patient.date_of_birth, DATE_OF_BIRTH_FORMAT)

    # BC: records kept at least 16 years; patients are archived, never deleted (a trigger refuses too).
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        detail = "changed: " + ", ".join(sorted(form.changed_data)) if change else "registered in the admin"
        with audited_transaction():
            super().save_model(request, obj, form, change)
            record(
                Action.UPDATE if change else Action.CREATE,
                request=request,
                obj=obj,
                patient_id=obj.pk,
                detail=detail,
            )

    @admin.action(description="Archive selected patients (kept, hidden from search)")
    def archive_selected(self, request, queryset):
        archived = 0
        for patient in queryset:
            try:
                archive_patient(patient, request=request)
                archived += 1
            except ValidationError:
                continue
        self.message_user(request, f"{archived} patient(s) archived.", messages.SUCCESS)


@admin.register(Screening)
class ScreeningAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """Read-only: screenings are answered on the chart and kept as history. Opening one is audited."""

    list_display = ("patient", "answered_at", "answered_by")
    list_select_related = ("patient", "answered_by")
    raw_id_fields = ("patient",)
    readonly_fields = (
        ["patient", "answered_by", "answered_at"]
        + [name for key, _label in SCREENING_ITEMS for name in (key, f"{key}_note")]
        + [name for key in SITE_ITEMS for name in (f"{key}_site", f"{key}_side")]
    )


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(AuditedChangesAdmin):
    """What a yes to each screening item means for needling: contraindication or precaution, and where it
    applies. One row per item (seeded with documented defaults, docs/safety.md); changes are audited."""

    list_display = ("item_label", "kind", "applies_to")
    list_filter = ("kind", "applies_to")
    fields = ("item_label", "kind", "applies_to", "reason")
    readonly_fields = ("item_label",)

    @admin.display(description="screening item", ordering="item")
    def item_label(self, obj):
        return obj.get_item_display()

    def has_add_permission(self, request):
        return False  # one rule per checklist item, seeded by the migration that adds the item

    def has_delete_permission(self, request, obj=None):
        return False
