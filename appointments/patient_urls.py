"""The patient's page for an appointment: reached from a signed link in an e-mail, never by logging in."""

from django.urls import path

from . import patient_views

app_name = "appointment-link"
urlpatterns = [
    path("<str:token>/", patient_views.manage_appointment, name="manage"),
]
