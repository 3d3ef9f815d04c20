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
    }


class PasswordResetRequestForm(PasswordResetForm):
    def get_users(self, email):
        from .models import User

        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if user.has_usable_password()
        )
