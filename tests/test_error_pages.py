import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_url_shows_a_styled_404(client, physio):
    client.force_login(physio)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "bootstrap.min.css" in html


def test_an_unknown_url_for_an_anonymous_user_is_a_404_not_a_login_loop(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
