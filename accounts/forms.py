from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That e-mail and password do not match an active staff account. "
        "Check both and try again.",
        "inactive": "This account has been deactivated. Ask the clinic administrator.",
        "locked": "Too many failed sign-ins for this address. Try again in %(minutes)s, "
        "or reset your password.",
    }

    def get_invalid_login_error(self):
        # Set by accounts.backends.LockoutModelBackend when the address is (now) locked.
        locked = getattr(self.request, "login_lockout", None)
        if locked is None:
            return super().get_invalid_login_error()
        minutes = locked.minutes_left()
        return forms.ValidationError(
            self.error_messages["locked"],
            code="locked",
            params={"minutes": f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"},
        )


class PasswordResetRequestForm(PasswordResetForm):
    def get_users(self, email):
        from .models import User

        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if user.has_usable_password()
        )


class CodeForm(forms.Form):
    """The six digits of the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "spellcheck": "false",
            }
        ),
        help_text="The six digits your authenticator app shows now, or one of your recovery codes.",
        error_messages={"required": "Type the code your authenticator app shows, or a recovery code."},
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": "Type the six digits the app shows after scanning the code."},
    )
