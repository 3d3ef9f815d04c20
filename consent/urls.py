from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("patient/<int:patient_pk>/new/", views.obtain, name="obtain"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
