"""Deny by default: every URL declares who may use it, and the declaration is what happens."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.access import PUBLIC, access_rule
from accounts.models import Role
from audit.models import Action, AuditEvent

SAMPLE = {
    "int": "987654",
    "str": "sample",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "sample/path",
}


class Match:
    """Enough of a ResolverMatch for access_rule()."""

    def __init__(self, func, namespace):
        self.func = func
        self.namespace = namespace
        self.app_name = namespace


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def sample_path(route):
    """A concrete path for a route, or None for regular-expression routes (only the admin has them)."""
    if route.startswith("^") or "(?P" in route:
        return None

    def fill(match):
        converter = match.group(1) or "str"
        return SAMPLE.get(converter, "1")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", fill, route)


ALL_URLS = list(walk(get_resolver().url_patterns))
CONCRETE = [(route, entry, ns) for route, entry, ns in ALL_URLS if sample_path(route) is not None]


def rule_of(entry, namespace):
    return access_rule(Match(entry.callback, namespace.split(":")[0] if namespace else ""))


def test_the_urlconf_is_not_empty():
    routes = [route for route, _, _ in ALL_URLS]
    assert "login/" in routes
    assert "audit/" in routes


@pytest.mark.parametrize("route,entry,namespace", ALL_URLS, ids=[r for r, _, _ in ALL_URLS])
def test_every_url_declares_an_access_rule(route, entry, namespace):
    rule = rule_of(entry, namespace)
    assert rule is not None, (
        f"/{route} ({entry.callback.__module__}.{entry.callback.__name__}) declares no access rule"
    )
    assert rule == PUBLIC or (rule and set(rule) <= set(Role.values))


def test_an_undeclared_view_is_refused_even_to_an_administrator(client, administrator, settings):
    settings.ROOT_URLCONF = "tests.accounts.undeclared_urls"
    client.force_login(administrator)
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, object_id="/undeclared/").exists()


def test_the_walker_finds_an_undeclared_view():
    from tests.accounts import undeclared_urls

    undeclared = [
        route for route, entry, ns in walk(undeclared_urls.urlpatterns) if rule_of(entry, ns) is None
    ]
    assert undeclared == ["undeclared/"]


@pytest.mark.django_db
@pytest.mark.parametrize("route,entry,namespace", CONCRETE, ids=[r for r, _, _ in CONCRETE])
def test_anonymous_users_are_sent_to_the_login_page(client, route, entry, namespace):
    if rule_of(entry, namespace) == PUBLIC:
        return
    response = client.get(sample_path(route))
    assert response.status_code == 302, f"/{route} answered {response.status_code} to an anonymous user"
    assert response.url.startswith("/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("role", Role.values)
def test_each_role_gets_403_wherever_it_is_not_allowed(client_for, role):
    client = client_for(role)
    checked = 0
    for route, entry, namespace in CONCRETE:
        rule = rule_of(entry, namespace)
        if rule == PUBLIC or role in rule:
            continue
        response = client.get(sample_path(route))
        assert response.status_code == 403, f"{role} got {response.status_code} on /{route}"
        assert b"You do not have access to this page" in response.content
        checked += 1
    denied = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor=client.user).count()
    assert denied == checked
    if role != Role.ADMIN:
        assert checked > 0, "every role but the administrator is refused somewhere (at least the audit trail)"
