"""The public booking pages: no login; anyone may book a type the clinic offers online
(docs/online-booking.md)."""

from django.urls import path

from . import online_views

app_name = "online"
urlpatterns = [
    path("", online_views.locations, name="locations"),
    path("<int:location_id>/", online_views.location, name="location"),
]
