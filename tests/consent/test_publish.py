"""Publishing a version (issue 3 item 5): the service the admin calls, and what is current."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.errors import ConsentRefused
from consent.selectors import current_form
from consent.services.publishing import publish_form
from tests.factories import ConsentFormFactory, PhysioFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_publishing_makes_a_draft_current_and_is_audited(administrator):
    from audit.models import Action, AuditEvent

    draft = ConsentFormFactory(published_at=None)
    assert current_form() is None
    publish_form(draft, by=administrator)
    assert current_form() == draft
    assert AuditEvent.objects.get(action=Action.PUBLISH).actor == administrator


def test_only_an_administrator_publishes(db):
    draft = ConsentFormFactory(published_at=None)
    with pytest.raises(ConsentRefused, match="administrator"):
        publish_form(draft, by=PhysioFactory())
    draft.refresh_from_db()
    assert draft.published_at is None


def test_publishing_twice_is_refused(administrator, consent_form):
    with pytest.raises(ConsentRefused, match="already published"):
        publish_form(consent_form, by=administrator)


def test_a_version_without_text_or_risks_is_refused(administrator):
    with pytest.raises(ConsentRefused, match="at least one risk"):
        publish_form(ConsentFormFactory(published_at=None, risks=False), by=administrator)
    with pytest.raises(ConsentRefused, match="needs its text"):
        publish_form(ConsentFormFactory(published_at=None, body="  "), by=administrator)


def test_a_version_effective_later_is_not_current_yet(consent_form):
    ConsentFormFactory(effective_date=timezone.localdate() + timedelta(days=3))
    assert current_form() == consent_form
    assert current_form(at=timezone.now() + timedelta(days=4)) != consent_form
