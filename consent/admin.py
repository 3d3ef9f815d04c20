from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from audit.models import Action
from audit.services import record as audit
from clinic.admin import ReadOnlyInline, ViewOnlyAdmin

from .models import ConsentForm, ConsentRecord, RiskDecision, RiskItem
from .services.publishing import publish_form

FORM_FIELDS = ["title", "version", "effective_date", "body", "requires_reconsent"]


class RiskItemInline(admin.TabularInline):
    model = RiskItem
    extra = 3
    fields = ["order", "region", "title", "description"]

    # A published version is what patients sign: its risks are fixed (a signed one is refused by the
    # model and the database as well).
    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.is_published

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published


@admin.register(ConsentForm)
class ConsentFormAdmin(admin.ModelAdmin):
    """The administrator drafts a version with its risks, then publishes it (the list's action). A
    published version is read-only here; publish a new version to change the wording."""

    list_display = (
        "version",
        "title",
        "effective_date",
        "requires_reconsent",
        "published_at",
        "signed_count",
    )
    inlines = [RiskItemInline]
    actions = ["publish_selected"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(signed=Count("records"))

    @admin.display(description="signed")
    def signed_count(self, obj):
        return obj.signed

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return FORM_FIELDS + ["published_at", "published_by"]
        return ["published_at", "published_by"]

    def has_delete_permission(self, request, obj=None):
        # A draft nobody can have signed may go; a published version is kept with what was signed on it.
        return obj is not None and not obj.is_published

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if change and obj.is_published:
            # Every field of a published version is read-only here: nothing to save (the model refuses an
            # edit anyway), so Save on its page changes nothing rather than failing.
            return
        super().save_model(request, obj, form, change)
        detail = (
            "changed: " + ", ".join(sorted(form.changed_data)) if change else f"draft version {obj.version}"
        )
        audit(Action.UPDATE if change else Action.CREATE, request=request, obj=obj, detail=detail)

    @admin.action(description="Publish selected versions (patients sign the newest in effect)")
    def publish_selected(self, request, queryset):
        for version in queryset.order_by("effective_date", "id"):
            try:
                publish_form(version, by=request.user, request=request)
            except ValidationError as refused:
                self.message_user(request, f"{version.version}: {refused.messages[0]}", messages.ERROR)
            else:
                self.message_user(request, f"Version {version.version} published.", messages.SUCCESS)


class RiskDecisionInline(ReadOnlyInline):
    model = RiskDecision
    fields = ["risk_item", "accepted"]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ViewOnlyAdmin):
    """Read-only: consents are obtained and withdrawn on the chart, and never edited or deleted."""

    list_display = ("patient", "form", "signed_at", "explained_by", "withdrawn_at")
    list_select_related = ("patient", "form", "explained_by")
    list_filter = ("form",)
    raw_id_fields = ("patient",)
    readonly_fields = [
        "patient",
        "form",
        "explained_by",
        "signer_name",
        "signer_relationship",
        "signed_at",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_reason",
    ]
    exclude = ["signature"]
    inlines = [RiskDecisionInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        consent = self.get_object(request, object_id)
        if consent is not None:
            audit(Action.VIEW, request=request, obj=consent, patient_id=consent.patient_id, detail="admin")
        return super().change_view(request, object_id, form_url, extra_context)
