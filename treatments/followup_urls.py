"""The patient's follow-up questionnaire: reached from a signed link in an e-mail, never by logging in."""

from django.urls import path

from . import followup_views

app_name = "follow-up"
urlpatterns = [
    path("<str:token>/", followup_views.follow_up_form, name="form"),
]
