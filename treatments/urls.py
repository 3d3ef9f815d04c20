from django.urls import path

from . import followup_views, views

app_name = "treatments"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("follow-ups/<int:pk>/phoned/", followup_views.follow_up_phoned, name="follow_up_phoned"),
    path(
        "appointment/<int:appointment_pk>/start/", views.start_from_appointment, name="start_from_appointment"
    ),
    path("patient/<int:patient_pk>/start/", views.session_start, name="start"),
    path("patient/<int:patient_pk>/psfs/", views.psfs, name="psfs"),
    path("<int:pk>/", views.session_detail, name="session"),
    path("<int:pk>/save/", views.session_save, name="save"),
    path("<int:pk>/repeat/", views.session_repeat, name="repeat"),
    path("<int:pk>/points/new/", views.point_form, name="point_form"),
    path("<int:pk>/points/", views.point_add, name="point_add"),
    path("<int:pk>/points/<int:point_pk>/edit/", views.point_edit, name="point_edit"),
    path("<int:pk>/points/<int:point_pk>/remove/", views.point_remove, name="point_remove"),
    path("<int:pk>/precautions/", views.acknowledge, name="acknowledge"),
    path("<int:pk>/side-effects/", views.side_effect_add, name="side_effect_add"),
    path("<int:pk>/sign/", views.session_sign, name="sign"),
    path("<int:pk>/addenda/", views.addendum_add, name="addendum_add"),
    path("<int:pk>/visit-summary.pdf", views.session_pdf, name="pdf"),
    path("<int:pk>/aftercare.pdf", views.aftercare_pdf, name="aftercare"),
    path("<int:pk>/aftercare/email/", views.aftercare_send, name="aftercare_send"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
]
