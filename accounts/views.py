from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as end_login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp_webauthn import views as passkey_views

from audit.models import Action
from audit.services import audited_transaction, record

from . import second_factor, sessions
from .access import before_second_factor, public, role_required, with_rule
from .forms import CodeForm, EnrolForm, LoginForm, PasswordResetRequestForm
from .home import home_panels
from .models import Role

RECOVERY_CODES_SESSION_KEY = "recovery_codes_to_show"


@role_required(*Role.values)
def home(request):
    """Each role's start page: what each app gives the role comes through the `home_panels` hook
    (accounts/home.py); apps that have not landed yet are said to be missing, never faked."""
    context = {"role": request.user.role, "panels": home_panels(request)}
    return render(request, f"accounts/home_{request.user.role}.html", context)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ended = self.request.GET.get("ended")
        if ended in {"idle", "absolute"}:
            context["session_ended"] = sessions.describe(ended)
        return context

    def form_valid(self, form):
        # The new session, last_login and the login's audit event (accounts/signals.py) go in together.
        with audited_transaction():
            return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        # The logout's audit event (accounts/signals.py) and the session's end go in together.
        with audited_transaction():
            return super().post(request, *args, **kwargs)


login = public(LoginView.as_view())
logout = with_rule(LogoutView.as_view(), frozenset(Role.values), second_factor_pending=True)


def safe_next(request):
    """The page to go on to after the second factor: a path on this site, else the start page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- the second factor ----------------------------------------------------------------------------------
@role_required(*Role.values)
@before_second_factor
def login_code(request):
    """The code page after the password: a code from the authenticator app, a recovery code, or a passkey."""
    if second_factor.pending(request) != "verify":
        return redirect(safe_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.verify_code(request, form.cleaned_data["code"])
        except second_factor.CodeRefused as refused:
            if refused.locked:
                end_login(request)
                messages.error(request, refused.message)
                return redirect("login")
            form.add_error("code", refused.message)
        else:
            return redirect(safe_next(request))
    device = second_factor.TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    context = {
        "form": form,
        "next": safe_next(request),
        "has_passkey": second_factor.passkeys().objects.filter(user=request.user, confirmed=True).exists(),
        # make run: the demo accounts' code is shown on the page (DEBUG only; README "Quick start").
        "demo_code": (
            second_factor.current_code(device)
            if settings.DEBUG and second_factor.is_demo_device(device)
            else None
        ),
    }
    return render(request, "accounts/login_code.html", context)


@role_required(*Role.values)
@before_second_factor
def second_factor_enrol(request):
    """Enrol an authenticator app: scan the QR code (or type the key), confirm with a code. At the first
    login of anyone who needs a second factor; later from the Security page to replace the app (which
    then needs the current second factor first)."""
    if second_factor.pending(request) == "verify":
        return redirect(f"{reverse_lazy('login_code')}?next={request.get_full_path()}")
    device = second_factor.authenticator_being_set_up(request.user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.confirm_authenticator(request, device, form.cleaned_data["code"])
        except second_factor.CodeRefused as refused:
            if refused.locked:
                end_login(request)
                messages.error(request, refused.message)
                return redirect("login")
            form.add_error("code", refused.message)
        else:
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            return redirect(f"{reverse_lazy('recovery_codes')}?next={safe_next(request)}")
    context = {
        "form": form,
        "qr_code": second_factor.qr_code_svg(device),
        "secret": second_factor.secret_in_base32(device),
        "next": safe_next(request),
        "required": second_factor.required_for(request.user),
    }
    return render(request, "accounts/second_factor_enrol.html", context)


@role_required(*Role.values)
def recovery_codes(request):
    """The ten recovery codes, shown once after they are made; POST makes ten new ones."""
    if request.method == "POST":
        request.session[RECOVERY_CODES_SESSION_KEY] = second_factor.new_recovery_codes(
            request.user, request=request
        )
        return redirect("recovery_codes")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "left": second_factor.recovery_codes_left(request.user), "next": safe_next(request)},
    )


@role_required(*Role.values)
def security(request):
    """The person's second factor and sessions: replace the app, new recovery codes, passkeys, and the
    sessions open elsewhere, each of which they can end."""
    current = request.session.session_key
    rows = [
        {"session": row, "handle": sessions.handle(row.session_key), "current": row.session_key == current}
        for row in sessions.sessions_of(request.user)
    ]
    context = {
        "sessions": rows,
        "authenticator": second_factor.TOTPDevice.objects.filter(user=request.user, confirmed=True).first(),
        "codes_left": second_factor.recovery_codes_left(request.user),
        "passkeys": second_factor.passkeys().objects.filter(user=request.user).order_by("pk"),
        "idle_minutes": settings.SESSION_IDLE_MINUTES,
    }
    return render(request, "accounts/security.html", context)


@role_required(*Role.values)
@require_POST
def end_session(request):
    """End one other session of this person (its handle), or all of them ("others")."""
    which = request.POST.get("session", "")
    keep = request.session.session_key
    if which == "others":
        ended = sessions.end_sessions(request.user, keep=keep, reason="ended by the user", request=request)
    else:
        if which == sessions.handle(keep or ""):
            messages.error(request, "This is the session you are using: log out to end it.")
            return redirect("security")
        ended = sessions.end_sessions(
            request.user, keep=keep, only=which, reason="ended by the user", request=request
        )
    messages.success(
        request, f"{ended} session{'' if ended == 1 else 's'} ended." if ended else "Nothing to end."
    )
    return redirect("security")


class PasskeyRegistrationComplete(passkey_views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            record(Action.MFA_ENROL, request=self.request, detail="passkey registered")
        return response


class PasskeyAuthenticationComplete(passkey_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device):
        super().complete_auth(device)
        record(Action.MFA_VERIFY, request=self.request, obj=device, detail="passkey")

    def handle_exception(self, exc):
        # A refused passkey is a failed sign-in, counted by the lockout like a wrong code.
        if self.request.user.is_authenticated:
            second_factor.fail(self.request)
        return super().handle_exception(exc)


passkey_registration_begin = with_rule(
    passkey_views.BeginCredentialRegistrationView.as_view(), frozenset(Role.values)
)
passkey_registration_complete = with_rule(PasskeyRegistrationComplete.as_view(), frozenset(Role.values))
passkey_authentication_begin = with_rule(
    passkey_views.BeginCredentialAuthenticationView.as_view(),
    frozenset(Role.values),
    second_factor_pending=True,
)
passkey_authentication_complete = with_rule(
    PasskeyAuthenticationComplete.as_view(), frozenset(Role.values), second_factor_pending=True
)


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        # Saving the new password ends every session of this person (accounts/signals.py); Django then
        # moves this one to a new key, so the person who changed it stays signed in here alone.
        with audited_transaction():
            response = super().form_valid(form)
            record(Action.UPDATE, request=self.request, obj=self.request.user, detail="password changed")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        with audited_transaction():
            response = super().form_valid(form)
            record(
                Action.PASSWORD_RESET,
                request=self.request,
                user=self.user,
                obj=self.user,
                detail="password reset by e-mailed link",
            )
        return response


password_change = with_rule(PasswordChangeView.as_view(), frozenset(Role.values))
password_change_done = with_rule(auth_views.PasswordChangeDoneView.as_view(), frozenset(Role.values))
password_reset = public(
    auth_views.PasswordResetView.as_view(
        form_class=PasswordResetRequestForm,
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
    )
)
password_reset_done = public(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = public(PasswordResetConfirmView.as_view())
password_reset_complete = public(auth_views.PasswordResetCompleteView.as_view())


def permission_denied(request, exception=None):
    # A refusal a service decided on the object was audited there, with what was refused.
    if not getattr(exception, "audited", False):
        reason = str(exception or "").strip()
        record(
            Action.PERMISSION_DENIED,
            request=request,
            object_type="url",
            object_id=request.path[:64],
            patient_id=getattr(exception, "patient_id", None),
            detail=(f"{request.method} {request.path}" + (f": {reason}" if reason else ""))[:500],
        )
    return render(request, "403.html", {"reason": getattr(exception, "message", "")}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
