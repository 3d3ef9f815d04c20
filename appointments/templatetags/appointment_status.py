"""The one way a page shows an appointment's status: appointments/_status.html, coloured here by the
status names (models.Status), never by raw strings in templates (issue 13 item 2)."""

from django import template

from ..models import Status

register = template.Library()

# Bootstrap's text-bg-* colour of each status: grey waiting, blue confirmed, green here, cyan with the
# physiotherapist, dark done, red cancelled or missed.
STATUS_COLOURS = {
    Status.BOOKED: "secondary",
    Status.CONFIRMED: "primary",
    Status.ARRIVED: "success",
    Status.IN_TREATMENT: "info",
    Status.COMPLETED: "dark",
    Status.CANCELLED: "danger",
    Status.NO_SHOW: "danger",
}


@register.filter
def status_colour(status):
    """The badge colour of a status (its value or a Status); "secondary" for an unknown one."""
    return STATUS_COLOURS.get(status, "secondary")


# Read once: Status.values and Status(value) build their lists and members anew on every call, which the
# day view paid for each of its appointments.
STATUS_LABELS = dict(Status.choices)


@register.filter
def status_label(status):
    """The status's name for people ("No-show" for no_show); the value itself if unknown."""
    return STATUS_LABELS.get(status, status)


# Statuses after which nothing more happens on the appointment (no session to start, no check-in).
OVER = {Status.CANCELLED, Status.NO_SHOW, Status.COMPLETED}


@register.filter
def status_is_over(status):
    """True for a cancelled, missed or completed appointment."""
    return status in OVER
