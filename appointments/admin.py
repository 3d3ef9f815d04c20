from django import forms
from django.contrib import admin

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.admin import AuditedOpenAdmin, ReadOnlyInline, ViewOnlyAdmin

from .models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Break,
    Location,
    Payment,
    Reminder,
    Room,
    TimeOff,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from .services import booking


class AuditedAdmin(admin.ModelAdmin):
    """Schedule settings changed in the admin leave an audit event like every other write."""

    # The admin runs its add, change and delete pages in a transaction, but not the "delete selected"
    # action: each write here brings its own, so the change and its audit event go in together.
    def save_model(self, request, obj, form, change):
        with audited_transaction():
            super().save_model(request, obj, form, change)
            detail = "changed: " + ", ".join(sorted(form.changed_data)) if change else "added in the admin"
            record(Action.UPDATE if change else Action.CREATE, request=request, obj=obj, detail=detail)

    def delete_model(self, request, obj):
        with audited_transaction():
            record(Action.UPDATE, request=request, obj=obj, detail=f"deleted in the admin: {obj}")
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with audited_transaction():
            for obj in queryset:
                record(Action.UPDATE, request=request, obj=obj, detail=f"deleted in the admin: {obj}")
            super().delete_queryset(request, queryset)


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ("name", "address")


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ("name", "location")


@admin.register(AppointmentType)
class AppointmentTypeAdmin(AuditedAdmin):
    list_display = (
        "name",
        "default_minutes",
        "fee",
        "needling",
        "active",
        "bookable_online",
        "new_patients_online",
    )
    list_filter = ("bookable_online", "new_patients_online", "active")


class BreakInline(admin.TabularInline):
    model = Break
    extra = 0


@admin.register(WorkingHours)
class WorkingHoursAdmin(AuditedAdmin):
    list_display = ("therapist", "weekday", "start", "end", "location")
    list_filter = ("weekday", "location")
    inlines = [BreakInline]


@admin.register(TimeOff)
class TimeOffAdmin(AuditedAdmin):
    list_display = ("therapist", "start", "end", "reason")


class StatusChangeInline(admin.TabularInline):
    model = AppointmentStatusChange
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "from_status", "to_status", "by", "note")

    def has_add_permission(self, request, obj=None):
        return False


class AppointmentAdminForm(forms.ModelForm):
    confirm_outside_hours = forms.BooleanField(required=False, label="Book outside working hours")
    confirm_past = forms.BooleanField(required=False, label="Book in the past")

    class Meta:
        model = Appointment
        fields = ["patient", "therapist", "type", "location", "room", "start", "end", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "location" in self.fields and self.instance.pk is None:
            # Booking finds it; an appointment already booked keeps one (the change page asks for it).
            self.fields["location"].required = False
            self.fields["location"].help_text = "Empty: where the physiotherapist works at that time."

    # A refusal met while saving (services.booking.BookingError: a booking committed after these checks),
    # set by AppointmentAdmin.changeform_view when it shows the form again.
    refusal = None

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None:
            # The change page edits place and notes only (time and people are read-only there); the room is
            # checked as services.booking.change_place() checks it.
            try:
                booking.check_place(self.instance, room=data.get("room"), location=data.get("location"))
            except booking.BookingError as error:
                raise forms.ValidationError({"room": error.messages}) from error
        elif data.get("room") is not None and data.get("location") is not None:
            # Booking checks it again (an empty location takes the room's).
            try:
                booking.check_room_at(data["room"], data["location"])
            except booking.BookingError as error:
                raise forms.ValidationError({"room": error.messages}) from error
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal.messages, code=self.refusal.code)
        required = ("patient", "therapist", "type", "start")
        if self.instance.pk is None and all(data.get(name) for name in required):
            # The same checks as every other door (appointments.services.booking.book).
            try:
                data["end"] = booking.check_booking(
                    patient=data.get("patient"),
                    therapist=data.get("therapist"),
                    type=data.get("type"),
                    start=data.get("start"),
                    end=data.get("end"),
                    confirm_outside_hours=data.get("confirm_outside_hours", False),
                    confirm_past=data.get("confirm_past", False),
                )
            except booking.BookingError as error:
                # Overlaps and backwards times are reported by the model's own validation (clean() and
                # the exclusion constraints' messages); saying them twice helps nobody.
                if error.code not in ("overlap", "end_before_start"):
                    raise forms.ValidationError(error.messages, code=error.code) from error
        return data


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Booking goes through services.booking.book; afterwards only place and notes are edited here, through
    services.booking.change_place (time and people move by reschedule(), and status changes happen on the
    appointment page, where each is recorded)."""

    form = AppointmentAdminForm
    list_display = ("start", "therapist", "patient", "type", "status")
    list_filter = ("status", "booked_online", "type", "location")
    date_hierarchy = "start"
    raw_id_fields = ("patient", "therapist")
    list_select_related = ("therapist", "patient", "type")
    inlines = [StatusChangeInline]
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "patient",
            "therapist",
            "type",
            "start",
            "end",
            "status",
            "cancel_reason",
            "booked_by",
            "booked_online",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*AppointmentAdminForm.Meta.fields, "confirm_outside_hours", "confirm_past"]
        return [
            "patient",
            "therapist",
            "type",
            "start",
            "end",
            "status",
            "cancel_reason",
            "booked_by",
            "booked_online",
            "location",
            "room",
            "notes",
        ]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "appointment_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The add and change pages; a save the services refuse as it is written (another booking committed
        after the form's checks: "that time was just taken") shows the form again with the reason, not a
        500. The admin's own transaction was rolled back with the refusal, so nothing of it was saved."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except booking.BookingError as error:
            if request.method != "POST" or getattr(request, "appointment_refusal", None) is not None:
                raise
            request.appointment_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service, as every door: the room's party lock, the deadlock retry, the audit event.
            data = form.cleaned_data
            booking.change_place(
                obj,
                location=data.get("location"),
                room=data.get("room"),
                notes=data.get("notes", ""),
                by=request.user,
                request=request,
            )
            return
        data = form.cleaned_data
        created = booking.book(
            patient=data["patient"],
            therapist=data["therapist"],
            type=data["type"],
            start=data["start"],
            end=data["end"],
            location=data.get("location"),
            room=data.get("room"),
            notes=data.get("notes", ""),
            by=request.user,
            confirm_outside_hours=data.get("confirm_outside_hours", False),
            confirm_past=data.get("confirm_past", False),
            request=request,
        )
        obj.pk = created.pk
        obj.location = created.location
        obj.end = created.end


@admin.register(Reminder)
class ReminderAdmin(ViewOnlyAdmin):
    list_display = ("sent_at", "kind", "sent_to", "appointment", "appointment_start", "sequence")
    list_filter = ("kind",)


@admin.register(Payment)
class PaymentAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """Payments and refunds with their receipt numbers: taken at the desk (appointments/services/payments.py),
    read here. The database refuses a change or a deletion; a mistake is corrected by a refund."""

    list_display = ("receipt_number", "kind", "amount", "method", "appointment", "recorded_by", "recorded_at")
    list_filter = ("kind", "method")
    list_select_related = ("appointment", "appointment__patient", "recorded_by")
    raw_id_fields = ("appointment", "refund_of", "recorded_by")
    date_hierarchy = "recorded_at"
    search_fields = ("=receipt_number",)

    def audit_patient_id(self, obj):
        return obj.appointment.patient_id


class WaitlistOfferInline(ReadOnlyInline):
    model = WaitlistOffer
    fields = ["start", "therapist", "location", "sent_at", "accepted_at"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AuditedOpenAdmin, ViewOnlyAdmin):
    """The waitlist, with the times offered to each entry: joined on the public page or at the desk, taken
    off it at the desk's list (appointments/waitlist_views.py), read here."""

    list_display = ("created_at", "full_name", "type", "location", "therapist", "status")
    list_filter = ("status", "location", "type")
    list_select_related = ("type", "location", "therapist")
    raw_id_fields = ("patient", "therapist", "appointment", "added_by", "closed_by")
    inlines = [WaitlistOfferInline]
