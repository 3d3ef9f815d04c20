"""The real URLconf plus one view that declares no access rule, to prove the deny-by-default path."""

from django.http import HttpResponse
from django.urls import include, path


def undeclared(request):
    return HttpResponse("this must never be shown")


urlpatterns = [path("undeclared/", undeclared), path("", include("clinic.urls"))]
handler403 = "accounts.views.permission_denied"
