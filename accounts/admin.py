from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Action
from audit.services import audited_transaction, record

from .models import ClinicianProfile, User


def changes(form, added=None):
    """The audit detail of an admin save: what was added, or which fields changed, never their values."""
    if added:
        return f"{added} in the admin"
    if not form.has_changed():
        return "no change"
    return "changed in the admin: " + ", ".join(sorted(form.changed_data))


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

    # Who may do what (role, active, needling authorisation) is part of the record: every change is audited,
    # in the transaction of the change.
    def save_model(self, request, obj, form, change):
        with audited_transaction():
            super().save_model(request, obj, form, change)
            detail = changes(form, added=None if change else f"staff account added as {obj.role}")
            record(Action.UPDATE if change else Action.CREATE, request=request, obj=obj, detail=detail)

    def save_formset(self, request, form, formset, change):
        with audited_transaction():
            super().save_formset(request, form, formset, change)
            for inline_form in formset.forms:
                if inline_form.has_changed():
                    detail = "clinician profile " + changes(inline_form, added=None if change else "added")
                    record(Action.UPDATE, request=request, obj=form.instance, detail=detail)

    def user_change_password(self, request, id, form_url=""):
        # Django's password page runs outside a transaction: give it one, with its audit event.
        with audited_transaction():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                record(Action.UPDATE, request=request, obj=user, detail="password set in the admin")
        return response


@admin.register(ClinicianProfile)
class ClinicianProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "registration_number", "needling_authorised_on", "needling_authorisation_expires"]
    search_fields = ["user__full_name", "registration_number"]

    def save_model(self, request, obj, form, change):
        with audited_transaction():
            super().save_model(request, obj, form, change)
            detail = "clinician profile " + changes(form, added=None if change else "added")
            record(Action.UPDATE, request=request, obj=obj.user, detail=detail)

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
