"""The follow-up after needling (issue 15): the day after a signed session with neck or mid-back points the
patient receives an e-mail with a signed link to a short form; a warning sign tells them what to do now and
opens an incident that alerts the clinician and every manager; unanswered ones are listed for the desk."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from clinic.patient_links import make_token, read_token
from outbox.models import OutboundEmail
from tests.factories import (
    FrontDeskFactory,
    ManagerFactory,
    NeedlingSessionFactory,
    complete_session,
    muscle,
    needle,
)
from tests.markup import without_links
from treatments import followup
from treatments.models import FollowUp, Incident
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db

ANSWER = {"soreness": "3", "bruising": "no", "comment": ""}


def signed_session(draft, clinician, muscle_name="Rhomboid major"):
    add_point(
        draft, by=clinician, muscle=muscle(muscle_name), side="L",
        needle_size=needle("0.30", 60), depth_mm=10, twitch_response="single",
    )  # fmt: skip
    return sign_session(complete_session(draft), by=clinician)


def local(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def day():
    return timezone.localdate() + timedelta(days=3)


@pytest.fixture
def signed(consented_draft, clinician):
    return signed_session(consented_draft, clinician)


@pytest.fixture
def follow_up(signed):
    return followup.send_follow_up(signed)


def form_path(follow_up):
    return followup.link_path(follow_up)


# Which sessions get one, and when


@pytest.mark.clock
def test_a_session_with_mid_back_points_gets_its_follow_up_the_next_day(
    consented_draft, clinician, day, mailoutbox
):
    with time_machine.travel(local(day, 15), tick=False):
        session = signed_session(consented_draft, clinician)
        assert followup.send_follow_ups_due() == 0  # not the same day
    with time_machine.travel(local(day + timedelta(days=1), 9), tick=False):
        assert list(followup.sessions_due(timezone.localdate())) == [session]
        assert followup.send_follow_ups_due() == 1
        assert followup.send_follow_ups_due() == 0  # idempotent: once per session
    with time_machine.travel(local(day + timedelta(days=2), 9), tick=False):
        assert followup.send_follow_ups_due() == 0  # not the day after next either
    assert FollowUp.objects.get().session == session
    assert OutboundEmail.objects.filter(key=f"follow-up:{session.pk}").count() == 1


@pytest.mark.clock
def test_a_session_without_neck_or_mid_back_points_gets_none_unless_the_clinic_asks(
    draft, clinician, day, settings
):
    with time_machine.travel(local(day, 11), tick=False):
        session = signed_session(draft, clinician, "Gluteus medius")
    with time_machine.travel(local(day + timedelta(days=1), 9), tick=False):
        assert followup.send_follow_ups_due() == 0
        settings.FOLLOW_UP_ALL_SESSIONS = True
        assert followup.send_follow_ups_due() == 1
    assert FollowUp.objects.get().session == session


@pytest.mark.clock
def test_a_patient_without_an_email_address_gets_none(signed, day):
    signed.patient.email = ""
    signed.patient.save()
    with time_machine.travel(timezone.localtime(signed.signed_at) + timedelta(days=1), tick=False):
        assert followup.send_follow_ups_due() == 0


def test_sending_twice_sends_one(signed, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert followup.send_follow_up(signed) is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert followup.send_follow_up(signed) is None
    assert len(mailoutbox) == 1 and FollowUp.objects.count() == 1


def test_the_email_carries_no_clinical_detail(
    signed, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.CLINIC_PHONE = "604-555-0100"
    with django_capture_on_commit_callbacks(execute=True):
        follow_up = followup.send_follow_up(signed)
    (mail,) = mailoutbox
    assert mail.to == ["pat@example.test"]
    assert "Hello Zoë" in mail.body and "604-555-0100" in mail.body
    link = next(
        line for line in mail.body.splitlines() if line.startswith(settings.CLINIC_URL + "/p/follow-up/")
    )
    assert read_token(followup.LINK_PURPOSE, link.split("/")[-2]) == follow_up.pk
    for clinical in ("Rhomboid", "back", "needl", "pain", "chest"):
        assert clinical not in without_links(mail.body) + mail.subject


@pytest.mark.clock
def test_the_daily_job_runs_on_the_workers_clock(consented_draft, clinician, day, settings):
    from outbox.schedule import tick

    assert settings.SCHEDULED_TASKS["send_follow_ups"]["task"] == "treatments.tasks.send_follow_ups"
    settings.SCHEDULED_TASKS = {
        "send_follow_ups": settings.SCHEDULED_TASKS["send_follow_ups"] | {"at": "09:00"}
    }
    with time_machine.travel(local(day, 15), tick=False):
        session = signed_session(consented_draft, clinician)
    with time_machine.travel(local(day + timedelta(days=1), 8), tick=False):
        assert tick() == []
    with time_machine.travel(local(day + timedelta(days=1), 9), tick=False):
        assert tick() == ["send_follow_ups"]  # the test settings' task backend runs it at once
        assert tick() == []
    assert FollowUp.objects.get().session == session


# The public page


def test_the_link_opens_the_form_without_logging_in(client, follow_up):
    response = client.get(form_path(follow_up))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "How sore are you today" in response.content.decode()
    assert form_path(follow_up).startswith("/p/follow-up/")
    event = AuditEvent.objects.get(action=Action.VIEW, object_id=str(follow_up.session_id))
    assert event.actor is None


def test_an_answer_without_a_warning_sign_is_saved_and_thanked(client, follow_up, mailoutbox):
    response = client.post(form_path(follow_up), {**ANSWER, "bruising": "yes", "comment": "A bit stiff."})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="thank-you"' in page and "normal" in page and "what-to-do-now" not in page
    follow_up.refresh_from_db()
    assert (follow_up.soreness, follow_up.bruising, follow_up.comment) == (3, True, "A bit stiff.")
    assert follow_up.answered_at is not None and follow_up.warning_signs == []
    assert not Incident.objects.exists() and not mailoutbox


def assert_refused(response):
    assert response.status_code == 410 and "no-store" in response["Cache-Control"]
    assert "This link has expired" in response.content.decode()


@pytest.mark.clock
def test_the_link_expires_after_patient_link_days(client, signed, settings):
    settings.PATIENT_LINK_DAYS = 14
    made = timezone.now()
    with time_machine.travel(made, tick=False):
        path = form_path(followup.send_follow_up(signed))
    with time_machine.travel(made + timedelta(days=14, minutes=1), tick=False):
        assert_refused(client.get(path))
        assert_refused(client.post(path, ANSWER))
    assert FollowUp.objects.get().answered_at is None


def test_a_tampered_or_other_purpose_link_is_refused(client, follow_up):
    token = make_token(followup.LINK_PURPOSE, follow_up.pk)
    for bad in [token[:-2], token + "x", "sample", "x" * 500, make_token("aftercare", follow_up.pk)]:
        assert_refused(client.get(reverse("follow-up:form", args=[bad])))
        assert_refused(client.post(reverse("follow-up:form", args=[bad]), ANSWER))
    # a well-signed token naming no follow-up
    assert_refused(client.get(reverse("follow-up:form", args=[make_token(followup.LINK_PURPOSE, 10**9)])))
    assert FollowUp.objects.get().answered_at is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"soreness": ""}, "Choose a number from 0 to 10."),
        ({"soreness": "11"}, "Choose a number from 0 to 10."),
        ({"soreness": "-1"}, "Choose a number from 0 to 10."),
        ({"soreness": "three"}, "Choose a number from 0 to 10."),
        ({"bruising": ""}, "Say yes or no."),
        ({"bruising": "maybe"}, "Say yes or no."),
        ({"comment": "x" * 1001}, "1000"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(client, follow_up, bad, message):
    response = client.post(form_path(follow_up), {**ANSWER, **bad})
    assert response.status_code == 400 and message in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None and follow_up.soreness is None


def test_a_filled_honeypot_saves_nothing(client, follow_up):
    response = client.post(form_path(follow_up), {**ANSWER, "website": "http://spam.example"})
    assert response.status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.answered_at is None


def test_a_second_answer_is_refused_and_the_first_kept(client, follow_up):
    client.post(form_path(follow_up), ANSWER)
    for method in (client.get, client.post):
        response = method(form_path(follow_up), {**ANSWER, "soreness": "9", "chest_pain": "on"})
        assert response.status_code == 200
        assert "already answered" in response.content.decode() and "call us" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.soreness == 3 and not follow_up.chest_pain
    with pytest.raises(followup.AlreadyAnswered):
        followup.answer(
            follow_up,
            soreness=1,
            bruising=False,
            short_of_breath=False,
            chest_pain=False,
            pain_breathing_in=False,
        )


def test_the_database_refuses_an_answer_without_soreness(follow_up):
    with pytest.raises(IntegrityError), transaction.atomic():
        FollowUp.objects.filter(pk=follow_up.pk).update(answered_at=timezone.now(), bruising=False)


# A warning sign


@pytest.fixture
def manager_on_duty(db):
    return ManagerFactory(full_name="Grace Whitfield", email="grace@clinic.test")


def test_a_warning_sign_shows_what_to_do_now_and_alerts_the_clinician_and_managers(
    client, follow_up, clinician, manager_on_duty, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_path(follow_up), {**ANSWER, "short_of_breath": "on"})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="what-to-do-now"' in page
    assert "Seek medical care at once" in page and "call 9-1-1" in page
    assert "dry needling over the chest or neck" in page
    incident = Incident.objects.get()
    assert (incident.follow_up, incident.session, incident.clinician) == (
        follow_up,
        follow_up.session,
        clinician,
    )
    assert incident.side_effect is None and incident.alerted_at is not None
    assert incident.what == "Reported by the patient at follow-up: shortness of breath"
    (mail,) = mailoutbox
    assert sorted(mail.to) == sorted([clinician.email, "grace@clinic.test"])
    assert "shortness of breath" in mail.body and follow_up.session.patient.chart_number in mail.body
    assert follow_up.session.patient.family_name not in mail.body + mail.subject
    client.force_login(clinician)
    banner = client.get(reverse("treatments:my_day"), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="incident-banner"' in banner and "shortness of breath" in banner
    incident_page = client.get(reverse("treatments:incident", args=[incident.pk])).content.decode()
    assert 'data-testid="incident-follow-up"' in incident_page


# The chart and the desk


def test_the_answers_show_on_the_session(
    client, signed, clinician, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    url = reverse("treatments:session", args=[signed.pk])
    client.force_login(clinician)
    with django_assert_max_num_queries(60) as before:
        assert 'data-testid="session-follow-up"' not in client.get(url).content.decode()
    queries = len(before.captured_queries)  # read now: the next request resets the connection's log
    follow_up = followup.send_follow_up(signed)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(form_path(follow_up), {**ANSWER, "chest_pain": "on"})
    client.force_login(clinician)
    with django_assert_max_num_queries(queries):  # the follow-up costs no more query
        page = client.get(url).content.decode()
    assert 'data-testid="session-follow-up"' in page and "soreness 3/10" in page and "chest pain" in page


@pytest.mark.clock
def test_unanswered_follow_ups_after_48_hours_are_listed_for_the_desk_to_phone(
    client_for, signed, consented_draft, django_assert_max_num_queries
):
    sent = timezone.now()
    with time_machine.travel(sent, tick=False):
        follow_up = followup.send_follow_up(signed)
    user = FrontDeskFactory()
    with time_machine.travel(sent + timedelta(hours=47), tick=False):
        desk = client_for(user)  # signed in then: a staff session ends after hours idle
        page = desk.get(reverse("home")).content.decode()
        assert 'data-testid="home-follow-ups"' in page and 'data-testid="follow-up-to-phone"' not in page
    with time_machine.travel(sent + timedelta(hours=49), tick=False):
        desk = client_for(user)
        with django_assert_max_num_queries(40) as one:
            page = desk.get(reverse("home")).content.decode()
        queries = len(one.captured_queries)
        for _ in range(5):  # more rows cost no more query
            other = signed_session(
                NeedlingSessionFactory(patient=signed.patient, clinician=signed.clinician), signed.clinician
            )
            FollowUp.objects.create(session=other, sent_at=sent)
        with django_assert_max_num_queries(queries):
            assert desk.get(reverse("home")).content.decode().count('data-testid="follow-up-to-phone"') == 6
        patient = signed.patient
        assert 'data-testid="follow-up-to-phone"' in page and patient.given_name in page
        assert str(patient.phone.as_national) in page or str(patient.phone) in page
        assert "soreness" not in page.lower()  # the desk sees no clinical answer
        response = desk.post(reverse("treatments:follow_up_phoned", args=[follow_up.pk]), {"note": ""})
        assert response.status_code == 302 and FollowUp.objects.get(pk=follow_up.pk).phoned_at is None
        desk.post(reverse("treatments:follow_up_phoned", args=[follow_up.pk]), {"note": "Left a message."})
        follow_up.refresh_from_db()
        assert follow_up.phoned_note == "Left a message." and follow_up.phoned_at is not None
        assert desk.get(reverse("home")).content.decode().count('data-testid="follow-up-to-phone"') == 5


def test_the_answers_show_on_the_charts_sessions_panel(
    client, follow_up, clinician, django_assert_max_num_queries
):
    client.post(form_path(follow_up), {**ANSWER, "soreness": "6", "pain_breathing_in": "on"})
    client.force_login(clinician)
    page = client.get(reverse("patients:chart", args=[follow_up.session.patient_id])).content.decode()
    assert "next day: soreness 6/10" in page and "pain on breathing in" in page


def test_the_database_refuses_an_incident_opened_by_neither_a_side_effect_nor_a_follow_up(follow_up):
    session = follow_up.session
    fields = {
        "session": session,
        "patient_id": session.patient_id,
        "clinician_id": session.clinician_id,
        "severity": "significant",
        "opened_at": timezone.now(),
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(**fields)
    assert not Incident.objects.exists()
