"""What every app's admin shares."""

from django.contrib import admin
from django.contrib.admin.utils import unquote

from audit.models import Action
from audit.services import audited_transaction, record


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent as recorded: nothing added, changed or deleted here. A subclass names
    its `model` and `fields`; they are all read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows the administrator may read but nobody adds, edits or deletes in the admin: the audit trail,
    signed consents, screenings, sent reminders. Each is written by its service (and most are held
    unchangeable by a trigger as well)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedOpenAdmin(admin.ModelAdmin):
    """Opening a clinical record in the admin is audited like opening it in the app (DESIGN.md: every
    view of a chart leaves an audit event), filed under its patient."""

    audit_detail = "opened in the admin"

    def audit_patient_id(self, obj):
        return getattr(obj, "patient_id", None)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                record(
                    Action.VIEW,
                    request=request,
                    obj=obj,
                    patient_id=self.audit_patient_id(obj),
                    detail=self.audit_detail,
                )
        return super().change_view(request, object_id, form_url, extra_context)


class AuditedChangesAdmin(admin.ModelAdmin):
    """Catalogue and settings rows the administrator edits (muscles, needles, screening rules): each
    addition or change is audited with the fields changed, in the same transaction as the save."""

    def save_model(self, request, obj, form, change):
        with audited_transaction():
            super().save_model(request, obj, form, change)
            record(
                Action.UPDATE if change else Action.CREATE,
                request=request,
                obj=obj,
                detail=(
                    f"{obj}: changed in the admin: " + ", ".join(sorted(form.changed_data))
                    if change
                    else f"{obj}: added in the admin"
                )[:1000],
            )
