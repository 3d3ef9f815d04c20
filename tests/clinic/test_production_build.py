"""The production build, as README "Deploying" makes it: collectstatic with the manifest storage, then
gunicorn with DEBUG=0 as the app role, serving the login page, its static files, a signed-in page and
the security headers."""

import re
from urllib.parse import urlencode

import pytest

from tests.clinic.conftest import ROOT, app_url, fetch, gunicorn, manage, production_environment
from tests.factories import TEST_PASSWORD, PhysioFactory, give_authenticator, totp_code

HTTPS = {"X-Forwarded-Proto": "https"}  # the TLS-terminating proxy's word that the client used HTTPS


def cookie(response, name):
    value = response.cookies()[name]
    return value.split(";", 1)[0].split("=", 1)[1], value


@pytest.mark.django_db(transaction=True)
def test_collectstatic_then_gunicorn_serves_the_app_with_hashed_static_files_and_security_headers(tmp_path):
    physio = PhysioFactory(full_name="Priya Natarajan")
    authenticator = give_authenticator(physio)
    static_root = tmp_path / "static"
    env = production_environment(app_url(), STATIC_ROOT=static_root)
    manage("collectstatic", "--noinput", "-v", "0", env=env)
    assert (static_root / "staticfiles.json").exists()

    with gunicorn(env, tmp_path) as base:
        login = fetch(base, "/login/", headers=HTTPS)
        assert login.status == 200, login.text[:500]
        assert login.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert login.headers["X-Content-Type-Options"] == "nosniff"
        assert login.headers["X-Frame-Options"] == "DENY"
        assert login.headers["Referrer-Policy"] == "same-origin"
        assert login.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        csrf_token, csrf_cookie = cookie(login, "csrftoken")
        assert "Secure" in csrf_cookie

        static = re.findall(r'(?:href|src)="(/static/[^"]+)"', login.text)
        assert any(re.search(r"/bootstrap\.min\.[0-9a-f]{12}\.css$", url) for url in static), static
        for url in static:
            served = fetch(base, url, headers=HTTPS)
            assert served.status == 200, url
            assert "immutable" in served.headers["Cache-Control"], url  # hashed names are cached for good
        assert fetch(base, "/static/vendor/bootstrap/bootstrap.min.css.map", headers=HTTPS).status == 404
        # The favicon: linked from every page (its hashed name), and /favicon.ico, which browsers ask for
        # anyway, sends them to the hashed icon instead of answering 404.
        assert any(re.search(r"/img/favicon\.[0-9a-f]{12}\.svg$", url) for url in static), static
        icon = fetch(base, "/favicon.ico", headers=HTTPS)
        assert icon.status == 302 and re.search(
            r"/static/img/favicon\.[0-9a-f]{12}\.ico$", icon.headers["Location"]
        )
        assert fetch(base, icon.headers["Location"], headers=HTTPS).status == 200

        form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        signed_in = fetch(
            base,
            "/login/",
            method="POST",
            body=urlencode(
                {"username": physio.email, "password": TEST_PASSWORD, "csrfmiddlewaretoken": form_token}
            ),
            headers={
                **HTTPS,
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_token}",
                "Origin": base.replace("http://", "https://"),
                "Referer": base.replace("http://", "https://") + "/login/",
            },
        )
        assert signed_in.status == 302, signed_in.text[:500]
        session, session_cookie = cookie(signed_in, "sessionid")
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        if "csrftoken" in signed_in.cookies():  # Django rotates the CSRF token at login
            csrf_token, _ = cookie(signed_in, "csrftoken")

        # A physiotherapist's second factor: the code of their authenticator app.
        jar = f"sessionid={session}; csrftoken={csrf_token}"
        code_page = fetch(base, "/login/code/", headers={**HTTPS, "Cookie": jar})
        assert code_page.status == 200, code_page.text[:500]
        code_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', code_page.text).group(1)
        verified = fetch(
            base,
            "/login/code/",
            method="POST",
            body=urlencode({"code": totp_code(authenticator), "csrfmiddlewaretoken": code_token}),
            headers={
                **HTTPS,
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": jar,
                "Origin": base.replace("http://", "https://"),
                "Referer": base.replace("http://", "https://") + "/login/code/",
            },
        )
        assert verified.status == 302, verified.text[:500]
        if "sessionid" in verified.cookies():
            session, _ = cookie(verified, "sessionid")

        home = fetch(base, "/", headers={**HTTPS, "Cookie": f"sessionid={session}"})
        assert home.status == 200
        assert "Priya Natarajan · Physiotherapist" in home.text
        assert home.headers["X-Frame-Options"] == "DENY"

        # Plain HTTP is sent to HTTPS, except the probes a load balancer sends straight to the server.
        plain = fetch(base, "/login/")
        assert plain.status == 301 and plain.headers["Location"].startswith("https://")
        assert fetch(base, "/healthz").text == "ok\n"
        assert fetch(base, "/readyz").text == "ready\n"


def test_the_deploying_section_of_the_readme_names_these_steps():
    readme = (ROOT / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    for step in [
        "manage.py migrate",
        "manage.py collectstatic --noinput",
        "gunicorn -c gunicorn.conf.py clinic.wsgi",
        "/readyz",
    ]:
        assert step in deploying
