"""The administrator's room: catalogues (muscles, needle sizes) are edited here, every change audited.
Needling records are read here, never written: a draft is written only by its own clinician on the
session screen (DESIGN.md rule 4), a signed session by nobody (addenda instead), and nothing clinical is
deleted. Opening a record here is audited like opening it in the app."""

from django.contrib import admin

from clinic.admin import AuditedChangesAdmin, AuditedOpenAdmin, ReadOnlyInline, ViewOnlyAdmin

from .models import (
    Addendum,
    FollowUp,
    Incident,
    IncidentEntry,
    Muscle,
    NeedlePoint,
    NeedleSize,
    NeedlingSession,
    OutcomeItem,
    OutcomeMeasure,
    SideEffect,
    VisitSummary,
)


@admin.register(Muscle)
class MuscleAdmin(AuditedChangesAdmin):
    list_display = (
        "name",
        "body_region",
        "risk_region",
        "advisory_max_depth_mm",
        "advisory_depth_source",
        "segment_applies",
        "active",
    )
    list_filter = ("body_region", "risk_region", "active")
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        return False  # points keep their muscle; retire a muscle by making it inactive


@admin.register(NeedleSize)
class NeedleSizeAdmin(AuditedChangesAdmin):
    list_display = ("__str__", "gauge_mm", "length_mm", "active")
    list_filter = ("active",)

    def has_delete_permission(self, request, obj=None):
        return False


class ClinicalRecordAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """Read-only, and every opening audited under the session's patient."""

    def audit_patient_id(self, obj):
        return obj.session.patient_id


@admin.register(NeedlingSession)
class NeedlingSessionAdmin(ClinicalRecordAdmin):
    list_display = ("id", "patient", "clinician", "started_at", "signed_at")
    list_select_related = ("patient", "clinician")
    list_filter = ("signed_at",)
    raw_id_fields = ("patient", "clinician", "appointment")
    date_hierarchy = "started_at"

    def audit_patient_id(self, obj):
        return obj.patient_id


@admin.register(NeedlePoint)
class NeedlePointAdmin(ClinicalRecordAdmin):
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
    raw_id_fields = ("session",)


@admin.register(SideEffect)
class SideEffectAdmin(ClinicalRecordAdmin):
    list_display = ("session", "type", "severity", "onset", "resolved")
    list_select_related = ("session", "session__patient")
    raw_id_fields = ("session",)


class IncidentEntryInline(ReadOnlyInline):
    model = IncidentEntry
    fields = ["kind", "contact_method", "text", "happened_at", "recorded_by"]


@admin.register(Incident)
class IncidentAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """Read here; followed up and closed on the incident page (treatments/incidents.py)."""

    list_display = ("id", "opened_at", "severity", "clinician", "status", "closed_at")
    list_filter = ("status", "severity")
    list_select_related = ("clinician",)
    raw_id_fields = ("side_effect", "follow_up", "session", "patient")
    inlines = [IncidentEntryInline]


@admin.register(Addendum)
class AddendumAdmin(ClinicalRecordAdmin):
    list_display = ("session", "author", "written_at")
    list_select_related = ("session", "session__patient", "author")


@admin.register(FollowUp)
class FollowUpAdmin(ClinicalRecordAdmin):
    """The patient's answers to the day-after follow-up; answered on the patient's page, phoned from the
    desk's list (treatments/followup_views.py), never here."""

    list_display = ("session", "sent_at", "answered_at", "soreness", "warning_sign", "phoned_at")
    list_select_related = ("session", "session__patient")
    list_filter = ("answered_at",)
    raw_id_fields = ("session", "phoned_by")

    @admin.display(boolean=True, description="Warning sign")
    def warning_sign(self, obj):
        return obj.short_of_breath or obj.chest_pain or obj.pain_breathing_in


class OutcomeItemInline(ReadOnlyInline):
    model = OutcomeItem
    fields = ["order", "activity", "score"]


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """Outcome scores (PSFS) as recorded on the chart; the database refuses a change or a deletion."""

    list_display = ("patient", "kind", "scored_at", "score", "session")
    list_select_related = ("patient", "session")
    list_filter = ("kind",)
    raw_id_fields = ("patient", "session", "recorded_by")
    inlines = [OutcomeItemInline]


@admin.register(VisitSummary)
class VisitSummaryAdmin(ClinicalRecordAdmin):
    """The stored visit summary PDFs, each with the SHA-256 its downloads are served with (the PDF itself
    is downloaded from the session, where the download is audited as a print)."""

    list_display = ("session", "addenda", "sha256", "rendered_at")
    list_select_related = ("session", "session__patient")
    raw_id_fields = ("session",)
    fields = ("session", "addenda", "sha256", "rendered_at")
    readonly_fields = fields
