"""The role home pages' collector, which higher apps plug into through their AppConfig (accounts imports
none of them, so what they give each role's start page comes through this hook, as the navigation bar's
entries do):

    home_panels = {Role.X: ["<app>.home.<function>", ...], ...}    panel(request) -> dict | None
        {"template": "<app>/<template>.html", "context": {...}}

A role's panels are rendered in INSTALLED_APPS order, then each app's declared order.
"""

from django.apps import apps
from django.template.loader import render_to_string
from django.utils.module_loading import import_string


def home_panels(request):
    """Each app's panel for the user's role, rendered with its own context, in INSTALLED_APPS order."""
    rendered = []
    for config in apps.get_app_configs():
        for dotted in getattr(config, "home_panels", {}).get(request.user.role, ()):
            panel = import_string(dotted)(request)
            if panel is not None:
                rendered.append(
                    render_to_string(panel["template"], panel.get("context", {}), request=request)
                )
    return rendered
