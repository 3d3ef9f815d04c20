"""Start-up checks: production must set what it needs, and says which variable is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    unset = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "MIGRATION_DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); print('started')",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "clinic.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_stops_naming_the_variable():
    result = start_django(DEBUG="0", DATABASE_URL="postgresql://u@localhost/x")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_no_database_url_stops_naming_the_variable():
    result = start_django(DEBUG="0", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("REMINDERS_AT", "5pm", "REMINDERS_AT must be a time of day as HH:MM"),
        ("REMINDERS_AT", "24:00", "REMINDERS_AT must be a time of day as HH:MM"),
        ("EXPORTS_EXPIRE_AT", "3am", "EXPORTS_EXPIRE_AT must be a time of day as HH:MM"),
        ("EXPORT_KEEP_DAYS", "0", "EXPORT_KEEP_DAYS must be 1 or more"),
        ("TASKS_BACKEND", "celery", "TASKS_BACKEND must be one of ['database', 'immediate']"),
        ("EMAIL_URL", "sendmail://", "EMAIL_URL scheme 'sendmail' is not one of"),
    ],
)
def test_a_bad_task_runner_setting_stops_naming_the_variable(variable, value, message):
    result = start_django(DEBUG="1", DATABASE_URL="postgresql://u@localhost/x", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_only_postgresql_is_accepted():
    result = start_django(DEBUG="0", SECRET_KEY="x" * 50, DATABASE_URL="sqlite:///db.sqlite3")
    assert result.returncode != 0
    assert "must name a PostgreSQL database" in result.stderr


def test_an_unknown_email_scheme_is_named():
    result = start_django(DEBUG="1", DATABASE_URL="postgresql://u@localhost/x", EMAIL_URL="pigeon://coop")
    assert result.returncode != 0
    assert "EMAIL_URL scheme 'pigeon'" in result.stderr


def test_development_starts_with_safe_defaults():
    result = start_django(DEBUG="1", DATABASE_URL="postgresql://u@localhost/x")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_passes_with_production_settings():
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **clean,
            "DEBUG": "0",
            "SECRET_KEY": "k3y-" + "q8Z!x2" * 10,
            "ALLOWED_HOSTS": "clinic.example",
            "CLINIC_URL": "https://clinic.example",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_PRELOAD": "1",
            "STATIC_MANIFEST": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_argon2_hashes_passwords_and_twelve_characters_is_the_minimum():
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    lengths = [v.get("OPTIONS", {}).get("min_length") for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert 12 in lengths
