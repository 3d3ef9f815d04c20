from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

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
