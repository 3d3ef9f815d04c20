from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("patient/<int:patient_pk>/new/", views.obtain, name="obtain"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("versions/", views.versions, name="versions"),
    path("versions/new/", views.new_draft, name="new_draft"),
    path("versions/<int:pk>/", views.version, name="version"),
    path("versions/<int:pk>/preview/", views.version_preview, name="version_preview"),
    path("versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
]
