"""The navigation bar: each app declares its entries on its AppConfig as `navigation`,
a list of (label, url name, roles). A person sees only the entries for their role."""

from django.apps import apps
from django.urls import NoReverseMatch, reverse


def entries_for(user):
    if not user.is_authenticated:
        return []
    items = []
    for config in apps.get_app_configs():
        for label, url_name, roles in getattr(config, "navigation", []):
            if user.role not in roles:
                continue
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            items.append({"label": label, "url": url, "app": config.label})
    return items
