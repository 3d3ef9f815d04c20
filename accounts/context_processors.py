from django.conf import settings

from .navigation import entries_for
from .roles import Role


def navigation(request):
    user = getattr(request, "user", None)
    # Between the password and the second factor the header shows no navigation: only log out.
    signed_in = user is not None and user.is_authenticated and not _second_factor_due(request)
    return {
        "navigation": entries_for(user) if signed_in else [],
        "signed_in": signed_in,
        "clinic_name": settings.CLINIC_NAME,
    }


def _second_factor_due(request):
    from .second_factor import pending

    return pending(request) is not None


def roles(request):
    """`Role` for templates, so they compare `user.role == Role.PHYSIO`, never a raw string (Django's
    choices are not called in templates: `Role.PHYSIO` reads as the value)."""
    return {"Role": Role}
