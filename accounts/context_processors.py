from django.conf import settings

from .navigation import entries_for


def navigation(request):
    user = getattr(request, "user", None)
    return {
        "navigation": entries_for(user) if user is not None else [],
        "clinic_name": settings.CLINIC_NAME,
    }
