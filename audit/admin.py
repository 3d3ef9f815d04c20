from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only in the database too."""

    list_display = ["at", "actor_email", "action", "object_type", "object_id", "patient_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_email", "object_id", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
