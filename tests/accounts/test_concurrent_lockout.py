"""Parallel guesses on one address, each on its own database connection: exactly LOGIN_FAILURE_LIMIT
passwords are checked; every later attempt is refused without a password check."""

import threading

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection

from audit.models import Action, AuditEvent
from tests.factories import PhysioFactory

WORKERS = 8


def guess_in_parallel(email, workers=WORKERS):
    barrier = threading.Barrier(workers)
    errors = []

    def guess():
        try:
            barrier.wait(timeout=30)
            authenticate(None, username=email, password="wrong-password-1")
        except Exception as error:  # noqa: BLE001 - reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture
def counted_hashes(monkeypatch):
    """How many passwords were actually checked (Argon2 verifications), across threads."""
    calls = []
    lock = threading.Lock()
    original = Argon2PasswordHasher.verify

    def verify(self, password, encoded):
        with lock:
            calls.append(1)
        return original(self, password, encoded)

    monkeypatch.setattr(Argon2PasswordHasher, "verify", verify)
    return calls


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_check_exactly_the_limit(settings, counted_hashes):
    settings.LOGIN_FAILURE_LIMIT = 5
    user = PhysioFactory(email="priya@clinic.test")
    assert guess_in_parallel(user.email) == []
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED)
    assert failures.exclude(detail__contains="locked").count() == 5
    assert failures.filter(detail__contains="locked").count() == WORKERS - 5
    assert len(counted_hashes) == 5


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_the_race_is_lost(settings, counted_hashes, monkeypatch):
    """The test can fail: with the lock taken out, parallel workers check more passwords than the limit."""
    import contextlib

    from accounts import lockout

    settings.LOGIN_FAILURE_LIMIT = 2
    monkeypatch.setattr(lockout, "attempt", lambda address: contextlib.nullcontext())
    user = PhysioFactory(email="priya@clinic.test")
    guess_in_parallel(user.email)
    assert len(counted_hashes) > 2
