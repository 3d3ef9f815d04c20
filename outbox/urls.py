from django.urls import path

from . import views

app_name = "outbox"
urlpatterns = [
    path("", views.email_list, name="list"),
    path("<int:pk>/retry/", views.retry, name="retry"),
]
