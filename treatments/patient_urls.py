"""The patient's pages of treatments: reached from a signed link in an e-mail, never by logging in."""

from django.urls import path

from . import views

app_name = "aftercare"
urlpatterns = [
    path("<str:token>/", views.aftercare_link, name="handout"),
]
