"""The waitlist's public pages: the join form, and the offer of a freed time behind a signed link."""

from django.urls import path

from . import waitlist_views

app_name = "waitlist"
urlpatterns = [
    path("join/", waitlist_views.join, name="join"),
    path("offer/<str:token>/", waitlist_views.offer, name="offer"),
]
