"""What consent gives the role home pages (accounts/home.py): the administrator's consent form versions."""

from .selectors import current_form


def versions_panel(request):
    return {"template": "consent/home_versions.html", "context": {"current": current_form()}}
