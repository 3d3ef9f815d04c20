"""`manage.py check --deploy` is clean on the production settings the README documents."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def deploy_check(**extra):
    secret = extra.pop("SECRET_KEY", secrets.token_urlsafe(50))
    env = {
        key: value
        for key, value in os.environ.items()
        # Test settings, and the browser tests' async-safety switch (never set in production).
        if key
        not in {
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "STATIC_MANIFEST",
            "SECURE_HSTS_PRELOAD",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secret,
        ALLOWED_HOSTS="clinic.example",
        EMAIL_URL="smtp://user:password@mail.example:587/?tls=1",
        TRUSTED_PROXY_COUNT="1",
        **{"CLINIC_URL": "https://clinic.example", **extra},
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_on_the_documented_production_settings():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_preload_is_a_choice_that_also_passes():
    result = deploy_check(SECURE_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_weak_secret_key_is_reported():
    result = deploy_check(SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_a_clinic_url_patients_cannot_reach_is_reported():
    """The worker builds the follow-up's link from CLINIC_URL; its default is this machine."""
    for address in ("http://localhost:8000", "http://clinic.example"):
        result = deploy_check(CLINIC_URL=address)
        assert result.returncode != 0, address
        assert "clinic.W002" in result.stdout + result.stderr
