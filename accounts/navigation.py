"""The navigation bar: each app declares its entries on its AppConfig as `navigation`,
a list of (label, url name, roles). A person sees only the entries for their role."""

from functools import lru_cache

from django.apps import apps
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse


def entries_for(user):
    if not user.is_authenticated:
        return []
    # The entries depend on the role alone (and on where the site is mounted): made once per process
    # for each, not on every page (issue 17). The page marks the active one (templates/base.html).
    return list(_entries(user.role, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF))


@lru_cache(maxsize=64)
def _entries(role, script_prefix, urlconf):
    """The role's entries as reverse() gives their URLs under `script_prefix` and `urlconf` (the key:
    reverse() reads both)."""
    items = []
    for config in apps.get_app_configs():
        for label, url_name, roles in getattr(config, "navigation", []):
            if role not in roles:
                continue
            try:
                url = reverse(url_name, urlconf=urlconf)
            except NoReverseMatch:
                continue
            items.append({"label": label, "url": url, "app": config.label})
    return tuple(items)
