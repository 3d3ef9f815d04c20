from django.urls import path

from . import views

app_name = "outbox"
urlpatterns = [
    path("", views.email_list, name="list"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/", views.export_download, name="export_download"),
]
