"""The administrator's E-mail page: every e-mail with its status, attempts and last error, filtered by
status; "Retry now" on a failed one (POST, audited)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.navigation import entries_for
from audit.models import Action, AuditEvent
from outbox.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


def email(n, status=EmailStatus.SENT, **fields):
    return OutboundEmail.objects.create(
        key=f"test:{n}",
        status=status,
        recipients=[f"patient{n}@example.test"],
        subject=f"Subject {n}",
        body="Body",
        next_attempt_at=timezone.now(),
        sent_at=timezone.now() if status == EmailStatus.SENT else None,
        **fields,
    )


@pytest.fixture
def admin_client(client_for):
    return client_for(Role.ADMIN)


def test_the_page_is_in_the_administrators_navigation_only(client_for):
    for role in Role.values:
        user = client_for(role).user
        labels = [entry["label"] for entry in entries_for(user)]
        assert ("E-mail" in labels) == (role == Role.ADMIN), role


def test_it_filters_by_status(admin_client):
    email(1, EmailStatus.SENT)
    email(2, EmailStatus.FAILED, attempts=6, last_error="attempt 6: OSError: mail server down")
    email(3, EmailStatus.QUEUED)
    page = admin_client.get(reverse("outbox:list"), {"status": "failed"}).content.decode()
    assert "Subject 2" in page and "mail server down" in page and "Retry now</button>" in page
    assert "Subject 1" not in page and "Subject 3" not in page
    everything = admin_client.get(reverse("outbox:list"), {"status": "nonsense"}).content.decode()
    assert all(f"Subject {n}" in everything for n in (1, 2, 3))
    assert everything.count("Retry now</button>") == 1


def test_it_queries_the_database_a_constant_number_of_times(admin_client, django_assert_max_num_queries):
    for n in range(40):
        email(n, EmailStatus.FAILED if n % 2 else EmailStatus.SENT)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("outbox:list"))
    assert response.content.decode().count("Retry now</button>") == 20


def test_retry_now_refuses_an_email_that_is_not_failed(admin_client):
    sent = email(1, EmailStatus.SENT)
    response = admin_client.post(reverse("outbox:retry", args=[sent.pk]), follow=True)
    assert "Only a failed e-mail can be retried; this one is sent." in response.content.decode()
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (EmailStatus.SENT, 0)
    assert not AuditEvent.objects.filter(action=Action.UPDATE, object_type="outbox.outboundemail").exists()


def test_retry_now_is_a_post(admin_client):
    failed = email(1, EmailStatus.FAILED)
    assert admin_client.get(reverse("outbox:retry", args=[failed.pk])).status_code == 405
    assert OutboundEmail.objects.get().status == EmailStatus.FAILED


def test_retry_now_of_an_email_that_does_not_exist_is_a_404(admin_client):
    assert admin_client.post(reverse("outbox:retry", args=[999999])).status_code == 404


def test_retry_now_queues_it_again_and_is_audited(admin_client, django_capture_on_commit_callbacks):
    failed = email(1, EmailStatus.FAILED, attempts=6, last_error="attempt 6: OSError: mail server down")
    with django_capture_on_commit_callbacks(execute=True):  # the test settings run tasks at once
        admin_client.post(reverse("outbox:retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (EmailStatus.SENT, 1)
    event = AuditEvent.objects.get(action=Action.UPDATE, object_type="outbox.outboundemail")
    assert event.actor == admin_client.user and "retry now" in event.detail
