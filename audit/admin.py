from django.contrib import admin

from clinic.admin import ViewOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ViewOnlyAdmin):
    """Read-only: the trail is append-only in the database too."""

    list_display = ["at", "actor_email", "action", "object_type", "object_id", "patient_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_email", "object_id", "detail"]
