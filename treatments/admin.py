"""The administrator's room: catalogues are edited here; sessions can be read, and drafts corrected,
through the same rules as every other door (model clean() calls treatments.services). Nothing clinical
is deletable, and signed sessions are read-only (the model and a database trigger refuse too)."""

from django.contrib import admin

from audit.models import Action
from audit.services import record

from .models import Addendum, Muscle, NeedlePoint, NeedleSize, NeedlingSession, SideEffect


@admin.register(Muscle)
class MuscleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "body_region",
        "risk_region",
        "advisory_max_depth_mm",
        "segment_applies",
        "active",
    )
    list_filter = ("body_region", "risk_region", "active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # points keep their muscle; retire a muscle by making it inactive


@admin.register(NeedleSize)
class NeedleSizeAdmin(admin.ModelAdmin):
    list_display = ("__str__", "gauge_mm", "length_mm", "active")
    list_filter = ("active",)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyWhenSigned:
    def has_delete_permission(self, request, obj=None):
        return False  # BC: records kept 16 years; a trigger refuses DELETE as well


@admin.register(NeedlingSession)
class NeedlingSessionAdmin(ReadOnlyWhenSigned, admin.ModelAdmin):
    list_display = ("id", "patient", "clinician", "started_at", "signed_at")
    list_select_related = ("patient", "clinician")
    list_filter = ("signed_at",)
    raw_id_fields = ("patient", "clinician", "appointment")
    readonly_fields = ("signed_at", "signed_by", "content_hash", "version", "updated_by")
    date_hierarchy = "started_at"

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_signed)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            Action.UPDATE if change else Action.CREATE,
            request=request,
            obj=obj,
            patient_id=obj.patient_id,
            detail=("changed in the admin: " + ", ".join(sorted(form.changed_data)))
            if change
            else "started in the admin",
        )


class ChildAdmin(ReadOnlyWhenSigned, admin.ModelAdmin):
    raw_id_fields = ("session",)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj is not None and obj.session.is_signed)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record(
            Action.UPDATE,
            request=request,
            obj=obj.session,
            patient_id=obj.session.patient_id,
            detail=f"{obj._meta.verbose_name} {'changed' if change else 'added'} in the admin",
        )


@admin.register(NeedlePoint)
class NeedlePointAdmin(ChildAdmin):
    list_display = (
        "session",
        "order",
        "muscle",
        "side",
        "segment",
        "needle_size",
        "depth_mm",
        "twitch_response",
    )
    list_select_related = ("session", "session__patient", "muscle", "needle_size")


@admin.register(SideEffect)
class SideEffectAdmin(ChildAdmin):
    list_display = ("session", "type", "severity", "onset", "resolved")
    list_select_related = ("session", "session__patient")


@admin.register(Addendum)
class AddendumAdmin(ReadOnlyWhenSigned, admin.ModelAdmin):
    list_display = ("session", "author", "written_at")
    list_select_related = ("session", "session__patient", "author")
    readonly_fields = ("session", "author", "written_at", "text")

    def has_add_permission(self, request):
        return False  # written by the physiotherapist on the session page

    def has_change_permission(self, request, obj=None):
        return False
