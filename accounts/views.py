from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy

from audit.models import Action
from audit.services import record

from .access import public, role_required, with_rule
from .forms import LoginForm, PasswordResetRequestForm
from .models import Role


@role_required(*Role.values)
def home(request):
    """Each role's start page; apps that have not landed yet are said to be missing, never faked."""
    return render(request, f"accounts/home_{request.user.role}.html", {"role": request.user.role})


login = public(
    auth_views.LoginView.as_view(
        template_name="registration/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)
logout = with_rule(auth_views.LogoutView.as_view(), frozenset(Role.values))


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(Action.UPDATE, request=self.request, obj=self.request.user, detail="password changed")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
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
