import pytest
from django.test import RequestFactory

from audit.models import Action, AuditEvent
from audit.services import record

pytestmark = pytest.mark.django_db


def test_it_records_who_what_where_from_a_request(physio):
    request = RequestFactory().get("/patients/1/", HTTP_USER_AGENT="Firefox 140", REMOTE_ADDR="10.1.2.3")
    request.user = physio
    event = record(
        Action.VIEW,
        request=request,
        object_type="patients.patient",
        object_id=1,
        patient_id=1,
        detail="chart",
    )
    event.refresh_from_db()
    assert (event.actor, event.actor_email, event.action) == (physio, physio.email, "view")
    assert (event.object_type, event.object_id, event.patient_id) == ("patients.patient", "1", 1)
    assert (event.ip_address, event.user_agent, event.detail) == ("10.1.2.3", "Firefox 140", "chart")
    assert event.at.utcoffset().total_seconds() == 0


def test_it_takes_the_client_address_our_proxy_appended_to_the_header(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged the first entry; our proxy appended the address it really saw.
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 2001:DB8::1", REMOTE_ADDR="10.0.0.1")
    event = record(Action.LOGIN_FAILED, request=request)
    assert event.ip_address == "2001:db8::1"
    assert AuditEvent.objects.get(pk=event.pk).compute_hash(event.previous_hash) == event.hash


def test_behind_two_proxies_it_takes_the_entry_the_outer_one_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2", REMOTE_ADDR="10.0.0.1"
    )
    assert record(Action.LOGIN_FAILED, request=request).ip_address == "203.0.113.7"


def test_without_a_proxy_a_forged_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="192.0.2.10")
    assert record(Action.LOGIN_FAILED, request=request).ip_address == "192.0.2.10"


def test_it_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="Unknown audit action"):
        record("tamper")
    assert AuditEvent.objects.count() == 0


def test_it_names_the_object_from_a_model_instance(physio):
    event = record(Action.UPDATE, user=physio, obj=physio)
    assert (event.object_type, event.object_id) == ("accounts.user", str(physio.pk))
