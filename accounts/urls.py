from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("account/security/", views.security, name="security"),
    path("account/second-factor/", views.second_factor_enrol, name="second_factor_enrol"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/sessions/end/", views.end_session, name="end_session"),
    path("password/change/", views.password_change, name="password_change"),
    path("password/change/done/", views.password_change_done, name="password_change_done"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("password/reset/complete/", views.password_reset_complete, name="password_reset_complete"),
]
