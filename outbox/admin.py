from django.contrib import admin

from clinic.admin import ViewOnlyAdmin

from .models import BackgroundExport, OutboundEmail, ScheduledRun


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ViewOnlyAdmin):
    list_display = ("key", "subject", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("key",)
    exclude = ("attachments",)


@admin.register(ScheduledRun)
class ScheduledRunAdmin(ViewOnlyAdmin):
    list_display = ("job", "day", "enqueued_at", "task_id")


@admin.register(BackgroundExport)
class BackgroundExportAdmin(ViewOnlyAdmin):
    list_display = ("description", "requested_by", "status", "size", "created_at", "expires_at")
    list_filter = ("status", "kind")
