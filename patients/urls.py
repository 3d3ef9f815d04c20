from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="list"),
    path("register/", views.patient_register, name="register"),
    path("<int:pk>/", views.patient_chart, name="chart"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/archive/", views.patient_archive, name="archive"),
    path("<int:pk>/screening/", views.screening_new, name="screening"),
    path("<int:pk>/break-the-glass/", views.break_glass, name="break_glass"),
    path("<int:pk>/access/", views.access_report, name="access_report"),
    path("break-the-glass/", views.break_glass_list, name="break_glass_list"),
]
