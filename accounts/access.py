"""Who may use which view: one declaration per view, enforced for every request.

    @role_required(Role.PHYSIO, Role.ADMIN)   signed-in staff holding one of these roles
    @public                                    anyone (login, password reset)

AccessMiddleware refuses any view that declares nothing (deny by default), sends anonymous users to
the login page, and answers a styled, audited 403 to a role that is not listed. The admin site is
declared as the administrator's. tests/accounts/test_access_rules.py walks the whole URLconf.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

PUBLIC = "public"


class Refused(PermissionDenied):
    """A refusal decided on the object (not the role): the view answers 403 with the styled page. The
    service that raises it has already written the audit event saying what was refused (`audited`), so
    the 403 handler does not write a second one."""

    def __init__(self, message, *, patient_id=None, audited=False):
        super().__init__(message)
        self.message = message
        self.patient_id = patient_id
        self.audited = audited


def role_required(*roles):
    if not roles:
        raise ValueError("role_required needs at least one role; use @public for open pages.")

    def declare(view):
        view.access_roles = frozenset(roles)
        return view

    return declare


def public(view):
    view.access_roles = PUBLIC
    return view


def access_rule(resolver_match):
    """The declared rule of a resolved view: PUBLIC, a frozenset of roles, or None (undeclared)."""
    from .models import Role

    if resolver_match.namespace == "admin" or resolver_match.app_name == "admin":
        return frozenset({Role.ADMIN})
    view = resolver_match.func
    rule = getattr(view, "access_roles", None)
    if rule is None and hasattr(view, "view_class"):
        rule = getattr(view.view_class, "access_roles", None)
    return rule


def with_rule(view, rule):
    """Copy a declaration onto a wrapped view (for views built by Django, such as auth views)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.access_roles = rule
    return wrapped


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None:
            return None
        if settings.DEBUG and request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        rule = access_rule(match)
        if rule == PUBLIC:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if rule is None:
            raise PermissionDenied(f"No access rule is declared for {match.view_name or match.route}.")
        if not request.user.has_role(*rule):
            raise PermissionDenied(f"{request.user.get_role_display()} may not use {match.view_name}.")
        return None
