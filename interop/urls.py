from django.urls import path

from . import views

app_name = "interop"
urlpatterns = [
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_batch, name="batch"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("import/<int:pk>/discard/", views.import_discard, name="discard"),
    path("fhir/", views.clinic_export, name="clinic_export"),
    path("fhir/bulk.zip", views.clinic_export_download, name="clinic_export_download"),
    path("fhir/patient/<int:patient_pk>/", views.patient_bundle, name="patient_bundle"),
]
