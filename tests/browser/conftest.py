"""Real pages in headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

Playwright's sync API runs an event loop in the test's thread, so Django's async-safety guard would
refuse the ORM calls the tests make to set up data; the live server itself runs in its own thread.
"""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.factories import TEST_PASSWORD, give_authenticator, totp_code  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",  # we run as root in CI; Chromium's sandbox refuses root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",  # the machine has no internet: no update or sync calls
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def seeded_rows(request):
    """Browser tests run with transaction=True, which empties every table after each test, the rows the
    migrations seeded too. The next test gets them back: the muscle and needle catalogue, and the
    screening rules (without them every positive screening item asks for an acknowledgement, so a test
    passed alone and failed after another browser test)."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from patients.models import ScreeningRule
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()
    if not ScreeningRule.objects.exists():
        rules = import_module("patients.migrations.0004_screening_rules_and_sites").DEFAULT_RULES
        for item, kind, applies_to, reason in rules:
            ScreeningRule.objects.create(item=item, kind=kind, applies_to=applies_to, reason=reason)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: browser tests need Debian's chromium "
            "(apt-get install chromium; .ci/run installs it) or CHROMIUM_PATH."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def log_in(page):
    """log_in(user) fills the real login form, then the code of the user's authenticator app (made for
    them when they have none), and waits for the start page."""

    def log_in(user, password=TEST_PASSWORD):
        device = give_authenticator(user)
        page.goto("/login/")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
        # Attached, not visible: on a phone the navigation (and who is logged in) is folded in its menu.
        page.wait_for_selector("[data-testid=whoami]", state="attached")
        return page

    return log_in
