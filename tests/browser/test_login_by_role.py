import pytest

from tests.factories import AdminFactory, FrontDeskFactory, ManagerFactory, PhysioFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "factory,heading,sees_audit",
    [
        (PhysioFactory, "Good day", False),
        (FrontDeskFactory, "Front desk", False),
        (ManagerFactory, "Clinic manager", False),
        (AdminFactory, "Administration", True),
    ],
)
def test_each_role_logs_in_and_sees_only_its_navigation(page, log_in, factory, heading, sees_audit):
    user = factory()
    log_in(user)
    assert heading in page.locator("h1").first.inner_text()
    assert page.get_by_role("navigation").get_by_role("link", name="Audit trail", exact=True).count() == (
        1 if sees_audit else 0
    )
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def test_a_wrong_password_shows_the_message_in_the_page(page):
    user = PhysioFactory()
    page.goto("/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("do not match an active staff account").is_visible()


def test_a_forbidden_page_is_styled_and_says_why(page, log_in):
    log_in(FrontDeskFactory())
    response = page.goto("/audit/")
    assert response.status == 403
    assert page.get_by_text("You do not have access to this page").is_visible()
