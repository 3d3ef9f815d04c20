"""Who may use which view: one declaration per view, enforced for every request.

    @role_required(Role.PHYSIO, Role.ADMIN)   signed-in staff holding one of these roles
    @public                                    anyone (login, password reset)
    @before_second_factor                      also before the second factor (its own pages, logout)

AccessMiddleware refuses any view that declares nothing (deny by default), sends anonymous users to
the login page, sends signed-in staff who have not passed their second factor to enrol or type a code
(accounts/second_factor.py), and answers a styled, audited 403 to a role that is not listed. The admin
site is declared as the administrator's, behind the same second factor. tests/accounts/test_access_rules.py
walks the whole URLconf.
"""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

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


def before_second_factor(view):
    """The view may be used between the password and the second factor (enrolment, the code page,
    logout). Declared together with role_required or with_rule."""
    view.before_second_factor = True
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


def with_rule(view, rule, *, second_factor_pending=False):
    """Copy a declaration onto a wrapped view (for views built by Django, such as auth views)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.access_roles = rule
    wrapped.before_second_factor = second_factor_pending
    return wrapped


def allowed_before_second_factor(resolver_match):
    view = resolver_match.func
    return getattr(view, "before_second_factor", False) or getattr(
        getattr(view, "view_class", None), "before_second_factor", False
    )


def page_to_return_to(request):
    """Where the person was: for htmx the page in the browser (HX-Current-URL), for another POST the page
    the form was on (a POST-only URL cannot be reloaded after signing in), else this URL."""
    candidates = []
    if getattr(request, "htmx", False):
        candidates.append(request.headers.get("HX-Current-URL", ""))
    elif request.method != "GET":
        candidates.append(request.headers.get("Referer", ""))
    for candidate in candidates:
        if candidate and url_has_allowed_host_and_scheme(candidate, {request.get_host()}):
            parts = urlsplit(candidate)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()


def send_to(request, url_name, **query):
    """Redirect to a page of the login flow with `next` set (redirect_with_next)."""
    return redirect_with_next(request, reverse(url_name), **query)


def redirect_with_next(request, url, **query):
    """Redirect to `url` with `next` set to the page the person was on; htmx requests are told to load it as
    a whole page (HX-Redirect) rather than swap it into a fragment."""
    url = url + "?" + urlencode({"next": page_to_return_to(request), **query}, safe="/")
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


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
            ended = getattr(request, "session_ended", None)
            return send_to(request, settings.LOGIN_URL, **({"ended": ended} if ended else {}))
        if rule is None:
            raise PermissionDenied(f"No access rule is declared for {match.view_name or match.route}.")
        if not request.user.has_role(*rule):
            raise PermissionDenied(f"{request.user.get_role_display()} may not use {match.view_name}.")
        if not allowed_before_second_factor(match):
            from .second_factor import pending

            due = pending(request)
            if due == "enrol":
                return send_to(request, "second_factor_enrol")
            if due == "verify":
                return send_to(request, "login_code")
        return None
