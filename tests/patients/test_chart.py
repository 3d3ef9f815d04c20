import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from tests.factories import ScreeningFactory
from tests.markup import page_text, tags

pytestmark = pytest.mark.django_db


def chart(client, patient):
    return client.get(reverse("patients:chart", args=[patient.pk]))


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.FRONT_DESK, Role.ADMIN])
def test_registry_roles_see_the_chart(client_for, zoe, role):
    response = chart(client_for(role), zoe)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Côté" in page and zoe.chart_number in page and "(604) 555-0123" in page


def test_the_manager_gets_403_on_a_chart(client_for, zoe):
    assert chart(client_for(Role.MANAGER), zoe).status_code == 403
    assert not AuditEvent.objects.filter(action=Action.VIEW, patient_id=zoe.pk).exists()


def test_every_chart_view_is_audited(client_for, zoe):
    client = client_for(Role.FRONT_DESK)
    chart(client, zoe)
    chart(client, zoe)
    events = AuditEvent.objects.filter(action=Action.VIEW, patient_id=zoe.pk, actor=client.user)
    assert events.count() == 2


def test_flags_show_at_the_top_of_the_chart_for_every_role(client_for, zoe):
    ScreeningFactory(patient=zoe, bleeding_risk=True, bleeding_risk_note="Takes warfarin")
    for role in (Role.PHYSIO, Role.FRONT_DESK):
        page = chart(client_for(role), zoe).content.decode()
        assert "Bleeding disorder or anticoagulants" in page


def test_the_front_desk_never_sees_clinical_panels_or_screening_notes(client_for, zoe):
    ScreeningFactory(patient=zoe, bleeding_risk=True, bleeding_risk_note="Takes warfarin")
    front_desk_page = chart(client_for(Role.FRONT_DESK), zoe).content.decode()
    assert "Screening history" not in front_desk_page
    assert "warfarin" not in front_desk_page
    physio_page = chart(client_for(Role.PHYSIO), zoe).content.decode()
    assert "Screening history" in physio_page and "warfarin" in physio_page


def test_recent_activity_lists_the_patients_audit_events(client_for, zoe):
    client = client_for(Role.PHYSIO)
    chart(client, zoe)
    page = page_text(chart(client, zoe).content.decode())
    assert f"{client.user.email} · View" in page


def test_the_chart_takes_a_bounded_number_of_queries(client_for, zoe, django_assert_max_num_queries):
    ScreeningFactory(patient=zoe)
    client = client_for(Role.PHYSIO)
    # Session, user and second factor, the patient, the audit chain (its lock and last hash in one round
    # trip, the insert, and its savepoint in the test), the
    # screenings (one read for the flags and the screening panel; no rules without a finding), consent
    # status and records, appointments (one), the latest sessions (one, shared by the history and the
    # course of care), PSFS scorings, recent activity. A long history costs the same: test_chart_load.py.
    with django_assert_max_num_queries(15):
        assert chart(client, zoe).status_code == 200


def test_a_refused_archive_shows_its_message_as_an_error_and_a_done_one_as_a_success(client_for, zoe):
    client = client_for(Role.FRONT_DESK)
    done = client.post(reverse("patients:archive", args=[zoe.pk]), follow=True).content.decode()
    assert len(tags(done, "div", class_="alert alert-success", role="alert")) == 1
    refused = client.post(reverse("patients:archive", args=[zoe.pk]), follow=True).content.decode()
    assert len(tags(refused, "div", class_="alert alert-danger", role="alert")) == 1
    assert "This patient is already archived." in page_text(refused)
