"""django-otp-webauthn's endpoints under its own namespace (its template tags reverse "otp_webauthn:..."),
each with an access declaration: registering needs a passed second factor, authenticating is the second
factor itself."""

from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import views
from .access import public

app_name = "otp_webauthn"

urlpatterns = [
    path("registration/begin/", views.passkey_registration_begin, name="credential-registration-begin"),
    path(
        "registration/complete/", views.passkey_registration_complete, name="credential-registration-complete"
    ),
    path("authentication/begin/", views.passkey_authentication_begin, name="credential-authentication-begin"),
    path(
        "authentication/complete/",
        views.passkey_authentication_complete,
        name="credential-authentication-complete",
    ),
    # The passkey scripts' message catalogue: static text, no data.
    path(
        "jsi18n/",
        public(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="js-i18n-catalog",
    ),
]
