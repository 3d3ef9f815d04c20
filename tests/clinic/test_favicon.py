"""The site has a favicon (issue 14 part 4): every page links the SVG icon among the static files, and
/favicon.ico, which browsers ask for whatever the page links, answers with the icon rather than a 404.
tests/clinic/test_production_build.py follows both to their hashed files under manifest storage."""

from pathlib import Path

from django.templatetags.static import static
from django.urls import reverse

from accounts.models import Role


def test_every_page_links_the_icon(client, client_for):
    login = client.get(reverse("login")).content.decode()
    assert f'<link rel="icon" href="{static("img/favicon.svg")}" type="image/svg+xml">' in login
    home = client_for(Role.MANAGER).get(reverse("home")).content.decode()
    assert static("img/favicon.svg") in home


def test_favicon_ico_sends_anyone_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.ico")
    assert "max-age=86400" in response["Cache-Control"]


def test_the_icons_are_in_the_static_files():
    from django.contrib.staticfiles import finders

    icon = finders.find("img/favicon.ico")
    assert icon is not None and Path(icon).read_bytes()[:4] == b"\x00\x00\x01\x00"  # the ICO signature
    svg = finders.find("img/favicon.svg")
    assert svg is not None and Path(svg).read_text().startswith("<svg")
