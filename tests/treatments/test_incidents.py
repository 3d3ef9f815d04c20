"""Critical events followed up (issue 11, part 5): a significant or serious side effect opens an incident,
whatever door recorded it; the clinician and the manager are alerted at once (home page banner, e-mail);
the incident records the actions taken, the follow-up contact with the patient, and who closed it and
when; open incidents show on the safety dashboard; nothing about an incident is deleted."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import Role
from audit.models import Action, AuditEvent
from tests.factories import ManagerFactory, NeedlingSessionFactory, PhysioFactory, UserFactory
from treatments.incidents import close_incident, record_entry
from treatments.models import Incident, IncidentEntry, SideEffect
from treatments.services import add_side_effect

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_on_duty(db):
    return ManagerFactory(full_name="Grace Whitfield", email="grace@clinic.test")


@pytest.fixture
def pneumothorax(draft, clinician, manager_on_duty, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        add_side_effect(
            draft,
            by=clinician,
            type="pneumothorax",
            severity="serious",
            onset="within_24h",
            action_taken="Sent to the emergency department",
        )
    return Incident.objects.get()


def test_a_serious_side_effect_opens_an_incident_and_alerts_the_clinician_and_the_manager_at_once(
    pneumothorax, clinician, manager_on_duty, mailoutbox, draft
):
    assert (pneumothorax.session, pneumothorax.clinician, pneumothorax.severity) == (
        draft,
        clinician,
        "serious",
    )
    assert pneumothorax.is_open and pneumothorax.alerted_at is not None
    (mail,) = mailoutbox
    assert sorted(mail.to) == sorted([clinician.email, "grace@clinic.test"])
    assert "Suspected pneumothorax (serious)" in mail.body and draft.patient.chart_number in mail.body
    assert draft.patient.family_name not in mail.body + mail.subject  # e-mail leaves the clinic: no name
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="treatments.incident").exists()
    assert AuditEvent.objects.filter(action=Action.SEND, object_type="treatments.incident").exists()


def test_a_mild_side_effect_opens_none(draft, clinician, mailoutbox):
    add_side_effect(draft, by=clinician, type="bruising", severity="mild")
    assert not Incident.objects.exists() and not mailoutbox


@pytest.mark.parametrize("how", ["bulk_create", "raw_sql", "an_update_raising_the_severity"])
def test_the_database_opens_it_whatever_door_recorded_the_side_effect(draft, how):
    if how == "bulk_create":
        SideEffect.objects.bulk_create(
            [SideEffect(session=draft, type="excessive_bleeding", severity="significant")]
        )
    elif how == "raw_sql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO treatments_sideeffect (session_id, type, severity, onset, duration, "
                "action_taken, resolved, description, recorded_at) "
                "VALUES (%s, 'fainting', 'significant', 'during', '', '', false, '', now())",
                [draft.pk],
            )
    else:
        effect = SideEffect.objects.create(session=draft, type="aggravation", severity="mild")
        assert not Incident.objects.exists()
        SideEffect.objects.filter(pk=effect.pk).update(severity="significant")
    incident = Incident.objects.get()
    assert incident.is_open and incident.session == draft and incident.clinician == draft.clinician


def test_the_clinician_and_the_manager_see_the_banner_at_home(
    client, pneumothorax, clinician, manager_on_duty
):
    client.force_login(clinician)
    page = client.get(reverse("treatments:my_day"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="incident-banner"' in page and "Suspected pneumothorax (serious)" in page
    client.force_login(manager_on_duty)
    page = client.get(reverse("home")).content.decode()
    assert (
        'data-testid="incident-banner"' in page
        and reverse("treatments:incident", args=[pneumothorax.pk]) in page
    )
    client.force_login(PhysioFactory())  # another physiotherapist's home stays quiet
    page = client.get(reverse("treatments:my_day"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="incident-banner"' not in page


def test_the_follow_up_is_recorded_and_the_incident_closed_with_who_and_when(
    client, pneumothorax, clinician, manager_on_duty
):
    client.force_login(clinician)
    url = reverse("treatments:incident", args=[pneumothorax.pk])
    client.post(
        url, {"action": "entry", "kind": "action", "text": "Chest X-ray arranged; physician informed"}
    )
    response = client.post(url, {"action": "entry", "kind": "follow_up", "contact_method": "",
                                 "text": "Called: breathing normal"})  # fmt: skip
    assert "Say how the patient was contacted." in response.content.decode()
    client.post(
        url,
        {
            "action": "entry",
            "kind": "follow_up",
            "contact_method": "phone",
            "text": "Called: breathing normal",
        },
    )
    client.force_login(manager_on_duty)
    response = client.post(
        url, {"action": "close", "note": "Small pneumothorax resolved without drainage."}, follow=True
    )
    page = response.content.decode()
    assert "Incident closed." in page and f"by {manager_on_duty}" in page
    pneumothorax.refresh_from_db()
    assert not pneumothorax.is_open and pneumothorax.closed_by == manager_on_duty and pneumothorax.closed_at
    assert list(pneumothorax.entries.values_list("kind", flat=True)) == ["action", "follow_up"]


def test_closing_needs_a_follow_up_contact_with_the_patient(pneumothorax, manager_on_duty):
    record_entry(pneumothorax, by=manager_on_duty, kind="action", text="Physician informed")
    with pytest.raises(ValidationError, match="Record the follow-up contact with the patient"):
        close_incident(pneumothorax, by=manager_on_duty, note="Done")
    with pytest.raises(IntegrityError, match="no follow-up contact"), transaction.atomic():
        Incident.objects.filter(pk=pneumothorax.pk).update(
            status="closed", closed_at=pneumothorax.opened_at, closed_by=manager_on_duty, closing_note="Done"
        )
    pneumothorax.refresh_from_db()
    assert pneumothorax.is_open


@pytest.mark.parametrize("who", ["front_desk", "administrator", "another_physiotherapist"])
def test_only_the_treating_clinician_or_the_manager_closes_it(client_for, pneumothorax, clinician, who):
    record_entry(pneumothorax, by=clinician, kind="follow_up", contact_method="phone", text="Fine")
    user = {
        "front_desk": Role.FRONT_DESK,
        "administrator": Role.ADMIN,
        "another_physiotherapist": Role.PHYSIO,
    }[who]
    client = client_for(user)
    response = client.post(
        reverse("treatments:incident", args=[pneumothorax.pk]), {"action": "close", "note": "x"}
    )
    assert response.status_code == 403
    pneumothorax.refresh_from_db()
    assert pneumothorax.is_open
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, actor=client.user).exists()


def test_the_front_desk_does_not_open_an_incident(client_for, pneumothorax):
    assert (
        client_for(Role.FRONT_DESK).get(reverse("treatments:incident", args=[pneumothorax.pk])).status_code
        == 403
    )


def test_nothing_about_an_incident_is_deleted_or_rewritten(pneumothorax, clinician, manager_on_duty):
    entry = record_entry(pneumothorax, by=clinician, kind="follow_up", contact_method="phone", text="Fine")
    for sql, params in [
        ("DELETE FROM treatments_incident WHERE id = %s", [pneumothorax.pk]),
        ("UPDATE treatments_incident SET severity = 'mild' WHERE id = %s", [pneumothorax.pk]),
        ("DELETE FROM treatments_incidententry WHERE id = %s", [entry.pk]),
        ("UPDATE treatments_incidententry SET text = 'nothing happened' WHERE id = %s", [entry.pk]),
    ]:
        with (
            pytest.raises(DatabaseError, match="refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    with pytest.raises(PermissionDenied):
        pneumothorax.delete()
    closed = close_incident(pneumothorax, by=manager_on_duty, note="Recovered")
    with pytest.raises(DatabaseError, match="is closed"), transaction.atomic():
        IncidentEntry.objects.create(incident=closed, kind="note", text="late note", recorded_by=clinician)
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic():
        Incident.objects.filter(pk=closed.pk).update(closing_note="rewritten")
    with pytest.raises(ValidationError, match="already closed"):
        close_incident(closed, by=manager_on_duty, note="again")


def test_open_incidents_show_on_the_safety_dashboard_until_closed(
    client_for, pneumothorax, clinician, manager_on_duty
):
    client = client_for(manager_on_duty)
    page = client.get(reverse("reports:safety")).content.decode()
    assert page.count('data-testid="open-incident"') == 1 and "Suspected pneumothorax" in page
    record_entry(
        pneumothorax, by=clinician, kind="follow_up", contact_method="in_person", text="Seen: recovered"
    )
    close_incident(pneumothorax, by=clinician, note="Recovered fully")
    page = client.get(reverse("reports:safety")).content.decode()
    assert 'data-testid="open-incident"' not in page and "No open incident" in page


def test_opening_the_incident_page_is_audited(client, pneumothorax, clinician):
    client.force_login(clinician)
    assert client.get(reverse("treatments:incident", args=[pneumothorax.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        action=Action.VIEW, object_type="treatments.incident", patient_id=pneumothorax.patient_id
    ).exists()


def test_the_session_links_its_side_effect_to_the_incident(client, pneumothorax, clinician, draft):
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert 'data-testid="side-effect-incident"' in page and f"Incident {pneumothorax.pk}: open" in page


# --- who is alerted, and what it costs (open_incidents_for: an EXISTS first; issue 17) --------------------
def test_the_banner_lists_each_open_incident_for_its_clinician_and_every_one_for_the_manager(
    pneumothorax, clinician, manager_on_duty, draft
):
    from treatments.incidents import open_incidents_for

    colleague = PhysioFactory()
    theirs = add_side_effect(
        NeedlingSessionFactory(clinician=colleague), by=colleague, type="fainting", severity="significant"
    )
    theirs = Incident.objects.get(side_effect=theirs)
    assert open_incidents_for(clinician) == [pneumothorax]
    assert open_incidents_for(colleague) == [theirs]
    assert open_incidents_for(manager_on_duty) == [theirs, pneumothorax]  # newest first
    for role in (Role.FRONT_DESK, Role.ADMIN):
        assert open_incidents_for(UserFactory(role=role)) == []
    record_entry(pneumothorax, by=clinician, kind="follow_up", contact_method="phone", text="Called")
    close_incident(pneumothorax, by=clinician, note="Resolved")
    assert open_incidents_for(clinician) == []  # closed: no longer alerted
    assert open_incidents_for(manager_on_duty) == [theirs]


def test_the_banner_asks_one_query_when_nothing_is_open_and_two_whatever_the_number_open(
    clinician, manager_on_duty, draft, django_assert_num_queries
):
    from django.template.loader import render_to_string

    from treatments.incidents import open_incidents_for

    desk = UserFactory(role=Role.FRONT_DESK)
    with django_assert_num_queries(1):
        assert open_incidents_for(clinician) == []
    for kind in ("pneumothorax", "fainting", "excessive_bleeding"):
        add_side_effect(draft, by=clinician, type=kind, severity="significant")
    for user in (clinician, manager_on_duty):
        with django_assert_num_queries(2):
            found = open_incidents_for(user)
            # What the banner shows of each is read with them (no query per incident, no deferred field).
            banner = render_to_string("treatments/_incident_banner.html", {"incidents": found})
            assert len(found) == 3 and banner.count('data-testid="incident-link"') == 3
            assert "Suspected pneumothorax (significant)" in banner and f"· {clinician} ·" in banner
            assert all(i.patient.chart_number in banner for i in found)
    with django_assert_num_queries(0):
        assert open_incidents_for(desk) == []
