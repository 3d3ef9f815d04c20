"""While the database cannot be reached the app answers 503 with Retry-After and a plain page, not a
500, and serves again by itself once the database is back."""

import pytest

from tests.clinic.conftest import fetch, gunicorn, localdb, production_environment

pytestmark = pytest.mark.xdist_group("scratch_clinic")

# A signed-in looking request: the session has to be looked up in the database.
HEADERS = {"X-Forwarded-Proto": "https", "Cookie": "sessionid=a-session-that-needs-the-database"}


@pytest.mark.parametrize("debug", ["0", "1"], ids=["production", "make-run"])
def test_an_unreachable_database_answers_503_and_the_app_recovers_by_itself(scratch_clinic, tmp_path, debug):
    cluster = scratch_clinic.cluster
    localdb.start(cluster)
    env = production_environment(scratch_clinic.app_url(), DEBUG=debug, STATIC_MANIFEST="0")
    with gunicorn(env, tmp_path) as base:
        assert fetch(base, "/patients/", headers=HEADERS).status == 302  # to the login page
        localdb.stop(cluster)
        try:
            down = fetch(base, "/patients/", headers=HEADERS)
            assert down.status == 503
            assert down.headers["Retry-After"] == "30"
            assert down.headers["Content-Type"].startswith("text/html")
            assert "Temporarily unavailable" in down.text
            assert "Traceback" not in down.text and "OperationalError" not in down.text
            assert fetch(base, "/healthz").status == 200, "the process itself is fine"
            assert fetch(base, "/readyz").status == 503
        finally:
            localdb.start(cluster)
        back = fetch(base, "/patients/", headers=HEADERS)
        assert back.status == 302
        assert back.headers["Location"].startswith("/login/")
        assert fetch(base, "/readyz").status == 200
