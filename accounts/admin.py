from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ClinicianProfile, User


class StaffCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class StaffChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")


class ClinicianProfileInline(admin.StackedInline):
    model = ClinicianProfile
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = StaffCreationForm
    form = StaffChangeForm
    ordering = ["full_name"]
    list_display = ["full_name", "email", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["full_name", "email"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "role", "is_active", "password"]}),
        ("Activity", {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "role", "password1", "password2"]})
    ]
    filter_horizontal = []
    inlines = [ClinicianProfileInline]
    actions = ["reset_second_factor", "end_all_sessions"]

    @admin.action(description="Reset the second factor (they enrol again at their next login)")
    def reset_second_factor(self, request, queryset):
        from .second_factor import reset_devices

        for user in queryset:
            reset_devices(user, by=request.user, request=request)
        self.message_user(
            request,
            f"Second factor reset for {queryset.count()} staff: their devices are removed and their sessions "
            "ended; each sets up an authenticator app at their next login.",
            messages.SUCCESS,
        )

    @admin.action(description="End all their sessions (log them out everywhere)")
    def end_all_sessions(self, request, queryset):
        from .sessions import end_sessions

        ended = sum(
            end_sessions(user, reason="ended by an administrator", request=request, by=request.user)
            for user in queryset
        )
        self.message_user(request, f"{ended} sessions ended.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        # Staff who signed records stay on file; deactivate instead.
        return False


@admin.register(ClinicianProfile)
class ClinicianProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "registration_number", "needling_authorised_on", "needling_authorisation_expires"]
    search_fields = ["user__full_name", "registration_number"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        return field


# Second-factor devices are not edited in the admin: an authenticator's key (and a recovery code) shown to
# an administrator would let them pass someone else's second factor. "Reset the second factor" on a staff
# member removes them instead (audited), and the person enrols again.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
