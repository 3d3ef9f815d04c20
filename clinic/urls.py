from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from clinic import views as clinic_views

handler403 = "accounts.views.permission_denied"
handler404 = "accounts.views.page_not_found"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("account/passkeys/", include("accounts.passkey_urls")),
    path("audit/", include("audit.urls")),
    path("outbox/", include("outbox.urls")),
    path("patients/", include("patients.urls")),
    path("consent/", include("consent.urls")),
    path("sessions/", include("treatments.urls")),
    path("appointments/", include("appointments.urls")),
    path("reports/", include("reports.urls")),
    path("interop/", include("interop.urls")),
    path("admin/", admin.site.urls),
    # Patients' pages: public, each behind a signed, expiring link e-mailed to the patient (no login).
    path("p/aftercare/", include("treatments.patient_urls")),
    path("p/follow-up/", include("treatments.followup_urls")),
    path("p/receipt/", include("appointments.receipt_urls")),
    # The public booking pages (no login: anyone may ask for a type the clinic offers online).
    path("book/", include("appointments.online_urls")),
    path("p/appointment/", include("appointments.patient_urls")),
    path("p/waitlist/", include("appointments.waitlist_urls")),
    # For load balancers: the process answers / it can serve (database reachable, migrations applied).
    path("favicon.ico", clinic_views.favicon, name="favicon"),
    path("healthz", clinic_views.healthz, name="healthz"),
    path("readyz", clinic_views.readyz, name="readyz"),
    # For the benchmarks: a signed-in page with nothing of its own (docs/benchmarks.md).
    path("hello", clinic_views.hello, name="hello"),
]
