"""What every app's admin shares."""

from django.contrib import admin


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
