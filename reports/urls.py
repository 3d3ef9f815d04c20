from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("therapists/", views.therapists, name="therapists"),
    path("safety/", views.safety, name="safety"),
    path("exports/", views.exports, name="exports"),
    path("exports/<slug:key>/", views.export, name="export"),
]
