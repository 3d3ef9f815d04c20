"""A patient's receipt: reached from a signed link in an e-mail the desk sends, never by logging in."""

from django.urls import path

from . import views

app_name = "receipt"
urlpatterns = [
    path("<str:token>/", views.receipt_link, name="pdf"),
]
