"""Malformed input never costs a 500, on any endpoint, as any role that may use it, and a request that is
refused saves nothing.

The endpoints are the URLconf's, the admin's included (walked as tests/accounts/test_access_rules.py
walks it). Their parameters come from three places: the forms and links the pages themselves render,
crawled as each role through a seeded demo clinic (so the ids in paths are real rows that role reaches);
the keys each view reads from request.GET and request.POST (its source); and keys people tamper with.
Values come from hypothesis: a field's real value or something malformed (bad dates, huge or negative
numbers, markup, any text), mixed field by field. A NUL character anywhere is refused with 400 before it
reaches PostgreSQL (clinic/middleware.py). Each endpoint is fuzzed in a transaction rolled back
afterwards, so one endpoint's successful writes do not change what the next one sees.
"""

import inspect
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.access import PUBLIC, access_rule
from accounts.demo import DEMO_STAFF
from accounts.models import Role, User

pytestmark = pytest.mark.django_db

NASTY_VALUES = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "1e308",
    "NaN",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "31/12/2026",
    "25:99",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "Ω≈ç√ 🦴",
    "../../etc/passwd",
    "x" * 5000,
]
# Keys people type or tamper with, sent to every endpoint besides its own.
COMMON_KEYS = ["q", "date", "start", "end", "page", "next", "id", "pk", "kind", "format", "o"]
# Hidden fields whose value picks what a view does with the rest (appointments' schedule page, admin).
BRANCH_FIELDS = {"kind", "action"}
# Sending these would end the role's login (or would need a real token) in the middle of the walk.
SKIP = {"logout", "admin:logout"}
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
MALFORMED = st.one_of(
    st.sampled_from(NASTY_VALUES),
    ANY_TEXT,
    st.integers(-(2**70), 2**70).map(str),
    st.dates().map(lambda day: day.strftime("%d/%m/%Y")),
)
# Rows a refusal must leave alone: everything but the audit trail (refusals are audited), logins and
# the summaries the database derives from the rest.
UNCOUNTED = ("audit_", "django_session", "django_admin_log", "reports_")


@dataclass
class Form:
    method: str
    path: str
    fields: dict = field(default_factory=dict)


class PageParser(HTMLParser):
    """Links (href, hx-get) and forms (their fields with the values the page filled in) of one page."""

    def __init__(self):
        super().__init__()
        self.links, self.forms, self.form, self.select, self.textarea = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "hx-get"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "form":
            action = attrs.get("hx-post") or attrs.get("action") or ""
            method = "POST" if attrs.get("hx-post") else (attrs.get("method") or "GET").upper()
            self.form = Form(method, action)
            self.forms.append(self.form)
        elif self.form is not None and attrs.get("name"):
            name = attrs["name"]
            if tag == "input" and attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                self.form.fields.setdefault(name, attrs.get("value", "on"))
            elif tag in ("input", "button"):
                self.form.fields[name] = attrs.get("value", "")
            elif tag == "select":
                self.select = name
                self.form.fields.setdefault(name, "")
            elif tag == "textarea":
                self.textarea = name
                self.form.fields[name] = ""
        elif (
            tag == "option"
            and self.form is not None
            and self.select
            and ("selected" in attrs or not self.form.fields.get(self.select))
        ):
            self.form.fields[self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form.fields[self.textarea] += data


class Match:
    def __init__(self, func, namespace):
        self.func, self.namespace, self.app_name = func, namespace, namespace


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry, namespace


def endpoint_name(namespace, entry):
    return ":".join(filter(None, [namespace, entry.name or entry.callback.__name__]))


def sample_path(route):
    """A concrete path for a route with made-up ids; None for the admin's regular expressions."""
    if route.startswith("^") or "(?P" in route:
        return None
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "987654" if m.group(1) == "int" else "sample", route)


def keys_read_by(view):
    """(GET keys, POST keys) that a view's source reads by name."""
    try:
        source = inspect.getsource(getattr(view, "view_class", view))
    except (OSError, TypeError):
        return set(), set()
    found = re.findall(r"request\.(GET|POST)(?:\.get(?:list)?\(|\[)\s*[\"'](\w+)[\"']", source)
    return {k for m, k in found if m == "GET"}, {k for m, k in found if m == "POST"}


ENDPOINTS = {}
for route, entry, namespace in walk(get_resolver().url_patterns):
    name = endpoint_name(namespace, entry)
    rule = access_rule(Match(entry.callback, namespace.split(":")[0] if namespace else ""))
    ENDPOINTS.setdefault(name, (route, entry.callback, rule))


def resolved(path):
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return ":".join(filter(None, [match.namespace, match.url_name or match.func.__name__]))


def in_area(name, area):
    return name.startswith("admin:") == (area == "admin")


def crawl(client, area, limit=400):
    """Concrete paths (one per endpoint), the query keys links send to each, and the forms, as reached
    from every page of the area ("app" or "admin") without path arguments and the links of the pages
    fetched."""
    paths, query_keys, forms = {}, {}, {}
    queue = deque(sample_path(route) for route, _view, _rule in ENDPOINTS.values() if sample_path(route))
    queue.extend(["/admin/"])
    fetched = 0
    while queue and fetched < limit:
        path = queue.popleft()
        if path is None or not path.startswith("/"):
            continue
        name = resolved(path)
        if name is None or name in SKIP or not in_area(name, area):
            continue
        for key, _value in parse_qsl(urlsplit(path).query, keep_blank_values=True):
            query_keys.setdefault(name, set()).add(key)
        if name in paths and "987654" not in paths[name]:
            continue
        response = client.get(path)
        fetched += 1
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            paths.setdefault(name, urlsplit(path).path)
            continue
        paths[name] = urlsplit(path).path
        parser = PageParser()
        parser.feed(response.content.decode())
        for link in parser.links:
            target = urljoin(path, link)
            if urlsplit(target).netloc in ("", "testserver"):
                queue.append(urlsplit(target)._replace(scheme="", netloc="").geturl())
        for form in parser.forms:
            form.path = urlsplit(urljoin(path, form.path)).path
            target = resolved(form.path)
            if target is None or target in SKIP:
                continue
            if form.method == "GET":
                query_keys.setdefault(target, set()).update(form.fields)
                continue
            # One form per endpoint and branch (say, each kind of "remove" button), not one per row.
            branch = tuple(sorted((k, v) for k, v in form.fields.items() if k in BRANCH_FIELDS))
            forms.setdefault((target, tuple(sorted(form.fields)), branch), form)
    return paths, query_keys, list(forms.values())


def row_counts():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [t for (t,) in cursor.fetchall() if not t.startswith(UNCOUNTED)]
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))
        return dict(zip(tables, cursor.fetchone(), strict=True))


def values_for(fields):
    """A strategy for one submission: each field its real value or something malformed."""
    strategies = {}
    for name, real in fields.items():
        if name == "csrfmiddlewaretoken":
            continue
        choices = [MALFORMED, st.lists(MALFORMED, min_size=2, max_size=3)]
        strategies[name] = st.one_of(st.just(real), *choices) if real else st.one_of(*choices)
    return st.fixed_dictionaries(strategies)


def fuzz(client, method, path, fields, examples, failures, sweep=()):
    """Send each field named in `sweep` malformed alone, `examples` malformed mixes of all of them, then
    a NUL in every field; record what failed."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(values_for(fields))
    def submit(data):
        before = row_counts() if method == "POST" else None
        response = client.post(path, data) if method == "POST" else client.get(path, data)
        assert response.status_code < 500, f"{method} {path} answered {response.status_code}"
        if before is not None and response.status_code >= 400:
            assert row_counts() == before, f"{method} {path} refused ({response.status_code}) but saved rows"

    def one_field_wrong():
        # Each field malformed alone, the others as the page filled them: reaches the branch that reads it.
        wrong = ["x"] if method == "POST" else ["x", "9999-12-31", "99999999999999999999"]
        for name, value in ((name, value) for name in sweep for value in wrong):
            before = row_counts() if method == "POST" else None
            data = {**fields, name: value}
            response = client.post(path, data) if method == "POST" else client.get(path, data)
            assert response.status_code < 500, (
                f"{method} {path} with {name}={value!r}: {response.status_code}"
            )
            if before is not None and response.status_code >= 400:
                assert row_counts() == before, f"{method} {path} with {name}={value!r} refused but saved rows"

    try:
        with transaction.atomic():
            one_field_wrong()
            submit()
            nul = {name: "\x00" for name in fields} or {"q": "\x00"}
            before = row_counts()
            response = client.post(path, nul) if method == "POST" else client.get(path, nul)
            assert response.status_code == 400, f"{method} {path} with NUL answered {response.status_code}"
            assert row_counts() == before, f"{method} {path} with NUL saved rows"
            transaction.set_rollback(True)
    except AssertionError as error:
        failures.append(str(error).splitlines()[0])


@pytest.fixture
def demo_clinic(quick_hashing):
    call_command("seed_demo", "--size", "12", "--quiet")
    return {
        role: User.objects.get(email=email)
        for email, _name, role, _reg in DEMO_STAFF
        if "intern" not in email
    }


@pytest.mark.parametrize(
    "role,area",
    [
        (Role.PHYSIO, "app"),
        (Role.FRONT_DESK, "app"),
        (Role.MANAGER, "app"),
        (Role.ADMIN, "app"),
        (Role.ADMIN, "admin"),  # the administration, the administrator's alone
    ],
)
def test_no_endpoint_answers_500_to_malformed_input_and_refusals_save_nothing(
    client, demo_clinic, role, area
):
    client.force_login(demo_clinic[role])
    client.raise_request_exception = False  # a 500 is recorded with the request that caused it
    paths, query_keys, forms = crawl(client, area)
    failures, checked = [], 0
    for name, (route, view, rule) in sorted(ENDPOINTS.items()):
        if name in SKIP or rule is None or (rule != PUBLIC and role not in rule) or not in_area(name, area):
            continue
        path = paths.get(name) or sample_path(route)
        if path is None:
            continue
        get_keys, post_keys = keys_read_by(view)
        read = get_keys | query_keys.get(name, set())
        # The admin's many pages share one code path: its lists (filters) and forms get the mixes.
        admin = name.startswith("admin:")
        rich = not admin or name.endswith(("_changelist", "_add", "_change"))
        # Every parameter the endpoint reads gets a few mixes; the usual suspects one go.
        fuzz(
            client,
            "GET",
            path,
            dict.fromkeys(read | set(COMMON_KEYS), ""),
            2 if read and rich else 1,
            failures,
            sweep=sorted(read) if rich and not admin else (),
        )
        discovered = [form for form in forms if resolved(form.path) == name]
        for form in discovered:
            # Every field of every form the pages render: malformed alone, then mixed.
            sweep = () if admin else sorted(form.fields)
            fuzz(client, "POST", form.path, form.fields, 2 if admin else 3, failures, sweep)
        if not discovered and not admin:
            # No page renders a form for it: the keys its source reads and the usual suspects.
            fields = dict.fromkeys(post_keys | set(COMMON_KEYS), "")
            fuzz(client, "POST", path, fields, 1, failures, sorted(post_keys))
        # An id no row has, as large as a path takes.
        huge = re.sub(r"/\d+/", "/99999999999999999999/", path, count=1)
        if huge != path:
            response = client.get(huge)
            if response.status_code >= 500:
                failures.append(f"GET {huge} answered {response.status_code}")
        checked += 1
    assert checked >= (100 if area == "admin" else 5)
    assert not failures, "\n".join(failures)
