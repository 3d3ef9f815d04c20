"""Dependencies between the apps run one way (DESIGN.md, docs/architecture.md): an app imports only apps
below it in DEPENDENCY_ORDER, never one above it or beside it, so there is no import cycle between apps.

Every `import` and `from ... import` in an app's modules counts, those inside functions included (a
cycle imported lazily is still a cycle). An app's templates likewise name only lower apps in `{% url %}`,
`{% include %}`, `{% extends %}` and `{% load %}`. A higher app that a lower one needs to show (a
navigation entry, a chart panel, a home page's panel, who is on a care team) reaches it through the
hooks on each AppConfig, which name dotted paths as strings, not through an import.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: each app may import the apps of the rows before its own. Apps on one row are independent.
DEPENDENCY_ORDER = [
    {"audit"},  # called by every app, calls none
    {"accounts"},  # staff, roles, access; audits logins and sessions
    {"outbox"},  # outgoing e-mail and the task runner's clock: every app above sends e-mail through it
    {"patients"},
    {"consent", "appointments"},
    {"treatments"},
    {"reports", "interop"},  # read every app; no app imports them
]
# clinic is the project itself, outside the order: its settings and URLconf name every app, and its shared
# pieces (clinic/fields.py, pdf.py, replica.py, the view-only admin) are used by all of them.
PROJECT = "clinic"

RANK = {app: rank for rank, row in enumerate(DEPENDENCY_ORDER) for app in row}

# Templates that still name pages of higher apps: none. The role home pages show what higher apps give each
# role (today's appointments, My day, the manager's figures and reports) through the `home_panels` hook on
# those apps' AppConfigs (accounts/home.py), as the navigation bar does (issue 13 item 3). The list may only
# shrink: a new upward reference fails.
TEMPLATES_STILL_NAMING_HIGHER_APPS = {}

# {% url 'app:name' %}, {% include "app/..." %} / {% extends "app/..." %}, {% load library ... %}
TEMPLATE_REFERENCE = re.compile(
    r"""\{%\s*(?:url\s+['"](?P<namespace>\w+):|(?:include|extends)\s+['"](?P<folder>\w+)/|load\s+(?P<libraries>[\w\s]+?)\s*%\})"""
)


def project_apps():
    return sorted(app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists())


def app_imports(app):
    """(imported app, file, line) for every import in `app`'s modules of another of the project's apps."""
    for path in sorted((ROOT / app).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                imported = module.split(".")[0]
                if imported in RANK and imported != app:
                    yield imported, path.relative_to(ROOT), node.lineno


def test_every_app_has_its_place_in_the_order():
    assert set(project_apps()) - {PROJECT} == set(RANK)


@pytest.mark.parametrize("app", sorted(RANK))
def test_an_app_imports_only_apps_below_it(app):
    upward = [
        f"{path}:{line} imports {imported}"
        for imported, path, line in app_imports(app)
        if RANK[imported] >= RANK[app]
    ]
    assert upward == [], f"{app} may import only apps below it in DEPENDENCY_ORDER"


def test_the_check_finds_an_upward_import(tmp_path, monkeypatch):
    # The check itself: an audit module importing accounts is caught.
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "views.py").write_text("def f():\n    from accounts.access import role_required\n")
    assert [(imported, line) for imported, _, line in app_imports("audit")] == [("accounts", 2)]


def template_libraries():
    """Template tag library name -> the app that defines it."""
    return {path.stem: path.parts[-3] for path in ROOT.glob("*/templatetags/*.py") if path.stem != "__init__"}


def template_references(app):
    """(template, apps it names) for each of `app`'s templates naming another of the project's apps."""
    libraries = template_libraries()
    for path in sorted((ROOT / app / "templates").rglob("*.html")):
        named = set()
        for match in TEMPLATE_REFERENCE.finditer(path.read_text()):
            if match["libraries"]:
                named |= {libraries.get(library) for library in match["libraries"].split()}
            else:
                named.add(match["namespace"] or match["folder"])
        named = {other for other in named if other in RANK and other != app}
        if named:
            yield str(path.relative_to(ROOT)), named


@pytest.mark.parametrize("app", sorted(RANK))
def test_an_apps_templates_name_only_apps_below_it(app):
    upward = {
        template: {other for other in named if RANK[other] >= RANK[app]}
        for template, named in template_references(app)
    }
    upward = {template: named for template, named in upward.items() if named}
    still = {
        template: named
        for template, named in TEMPLATES_STILL_NAMING_HIGHER_APPS.items()
        if template.startswith(f"{app}/")
    }
    assert upward == still
