"""Rule 1 of DESIGN.md: a needle point is saved only when the patient holds a current, signed, not
withdrawn consent whose general risks were accepted and, in a risk region (neck, mid back), whose risk for
that region was accepted too; declined means blocked; the database holds it.

Consent is held by the database (issue 11, part 2): a needle point refers to the consents that allowed
it, and every door refuses a point the patient's consent does not allow, for each way consent can be
missing. The doors: raw SQL, bulk_create, objects.create, the point form (a plain POST), the htmx row and
the admin. The service answers first with a message naming what is missing (the form and the htmx row);
the database is the backstop for the rest (consent migration 0004, treatments migration 0006).

No needling at all without consent on file: every point needs the general risks of needling accepted on a
current, signed, not withdrawn consent (DOMAIN.md), through every door (service, point form POST, the
database). A session may still be started without consent: the assessment comes first.

One definition of consent: the database's consent_allows() (consent migration 0004), which the needle
point trigger and the reports' coverage call, and consent_status(), which explains it in words on the
screens, agree for every way consent can stand, at every moment.
"""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from consent.errors import NeedlingNotAllowed
from consent.models import Region
from consent.selectors import allowed_regions, consent_status
from consent.services.obtaining import withdraw_consent
from tests.factories import (
    AppointmentFactory,
    ConsentFormFactory,
    PhysioFactory,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlePoint, NeedlingSession
from treatments.services import add_point, start_session, start_session_from_appointment, update_point

pytestmark = pytest.mark.django_db


# Every door, for each way consent can be missing.


def no_consent(patient, clinician):
    return None


def declined_region(patient, clinician):
    return give_consent(patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))


def general_risks_declined(patient, clinician):
    return give_consent(patient, accepted=(Region.NECK, Region.MID_BACK))


def withdrawn(patient, clinician):
    record = give_consent(patient)
    withdraw_consent(record, by=clinician, reason="Does not want needling any more")
    return record


def superseded_by_reconsent(patient, clinician):
    record = give_consent(patient)
    ConsentFormFactory(requires_reconsent=True)  # published now, in effect: earlier consents grant nothing
    return record


# (how consent is missing, the service's message, the database's message)
CASES = [
    (no_consent, "No consent for needling is on file", "no consent allowing needling"),
    (declined_region, "declined the neck risk", "no consent allowing the neck region"),
    (general_risks_declined, "general risks of needling were declined", "no consent allowing needling"),
    (withdrawn, "consent for needling was withdrawn", "no consent allowing needling"),
    (superseded_by_reconsent, "re-consent on form version", "no consent allowing needling"),
]


IDS = [case[0].__name__ for case in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def case(request, unconsented_draft, clinician):
    make, service_message, database_message = request.param
    record = make(unconsented_draft.patient, clinician)
    return {
        "session": unconsented_draft,
        "record": record,
        "service_message": service_message,
        "database_message": database_message,
    }


def neck_values(session, record, **overrides):
    """An upper trapezius point (the neck) that claims the given consent allowed it."""
    return {
        "session": session,
        "order": 1,
        "muscle": muscle("Upper trapezius"),
        "side": "R",
        "needle_size": needle("0.25", 30),
        "depth_mm": 15,
        "consent": record,
        "region_consent": record,
        **overrides,
    }


def neck_point(session, record, **overrides):
    return NeedlePoint(**neck_values(session, record, **overrides))


def form_post():
    return {
        "muscle": muscle("Upper trapezius").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.25", 30).pk,
        "depth_mm": "15",
        "insertions": "1",
        "technique": "pistoning",
        "twitch_response": "none",
        "patient_response": "none",
        "notes": "",
    }


def test_a_raw_insert_is_refused_by_the_database(case, point_fields):
    record_id = case["record"].pk if case["record"] else None
    with (
        pytest.raises(IntegrityError, match=case["database_message"]),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            'INSERT INTO treatments_needlepoint (session_id, "order", muscle_id, side, segment, '
            "needle_size_id, depth_mm, insertions, technique, twitch_response, patient_response, "
            "depth_confirmed, notes, consent_id, region_consent_id) "
            "VALUES (%s, 1, %s, 'R', '', %s, 15, 1, 'static', 'none', 'none', false, '', %s, %s)",
            [
                case["session"].pk,
                muscle("Upper trapezius").pk,
                needle("0.25", 30).pk,
                record_id,
                record_id,
            ],
        )
    assert not NeedlePoint.objects.exists()


def test_bulk_create_is_refused_by_the_database(case):
    with pytest.raises(IntegrityError, match=case["database_message"]), transaction.atomic():
        NeedlePoint.objects.bulk_create([neck_point(case["session"], case["record"])])
    assert not NeedlePoint.objects.exists()


def test_objects_create_is_refused_by_the_database(case):
    with pytest.raises(IntegrityError, match=case["database_message"]), transaction.atomic():
        NeedlePoint.objects.create(**neck_values(case["session"], case["record"]))
    assert not NeedlePoint.objects.exists()


def test_the_point_form_refuses_with_the_message_and_audits_the_refusal(client, case):
    session = case["session"]
    client.force_login(session.clinician)
    response = client.post(reverse("treatments:point_add", args=[session.pk]), form_post(), follow=True)
    assert response.status_code == 200
    assert case["service_message"] in response.content.decode()
    assert not NeedlePoint.objects.exists()
    refused = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=session.clinician)
    assert refused.patient_id == session.patient_id
    assert f"refused: add a needle point to session {session.pk}" in refused.detail
    assert case["service_message"] in refused.detail


def test_the_htmx_row_refuses_with_the_message_beside_the_form(client, case):
    session = case["session"]
    client.force_login(session.clinician)
    response = client.post(
        reverse("treatments:point_add", args=[session.pk]), form_post(), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="point-errors"' in page and case["service_message"] in page
    assert not NeedlePoint.objects.exists()


def test_the_admin_refuses_every_point(client_for, case):
    data = {key: value for key, value in form_post().items()}
    data.update({"session": case["session"].pk, "order": 1})
    response = client_for("administrator").post("/admin/treatments/needlepoint/add/", data)
    assert response.status_code == 403
    assert not NeedlePoint.objects.exists()


# --- what the database accepts, and what it makes a point say --------------------------------------
def test_a_point_the_consent_allows_is_accepted_by_raw_sql_when_it_names_that_consent(
    unconsented_draft, clinician
):
    record = give_consent(unconsented_draft.patient)
    with transaction.atomic():
        NeedlePoint.objects.bulk_create([neck_point(unconsented_draft, record)])
    point = NeedlePoint.objects.get()
    assert point.consent == record and point.region_consent == record


def test_a_point_must_name_the_consent_that_decides_now_not_an_older_one(unconsented_draft, clinician):
    older = give_consent(unconsented_draft.patient)
    newer = give_consent(unconsented_draft.patient, accepted=(Region.GENERAL,), declined=(Region.NECK,))
    # The newer consent declines the neck: pointing at the older acceptance does not make it allowed.
    with pytest.raises(IntegrityError, match=f"must refer to consent {newer.pk}"), transaction.atomic():
        NeedlePoint.objects.bulk_create([neck_point(unconsented_draft, older)])
    # A point outside the risk regions must name the newer consent for the general risks.
    gluteus = {"muscle": muscle("Gluteus medius"), "needle_size": needle("0.30", 60), "region_consent": None}
    with pytest.raises(IntegrityError, match=f"must refer to consent {newer.pk}"), transaction.atomic():
        NeedlePoint.objects.bulk_create([neck_point(unconsented_draft, older, **gluteus)])
    NeedlePoint.objects.bulk_create([neck_point(unconsented_draft, newer, **gluteus)])
    assert NeedlePoint.objects.count() == 1


def test_a_point_cannot_be_dated_before_its_session_started(unconsented_draft):
    from datetime import timedelta

    record = give_consent(unconsented_draft.patient)
    early = unconsented_draft.started_at - timedelta(minutes=1)
    with pytest.raises(IntegrityError, match="dated before its session started"), transaction.atomic():
        NeedlePoint.objects.bulk_create([neck_point(unconsented_draft, record, recorded_at=early)])


def test_the_service_records_the_consents_that_allowed_each_point(consented_draft, clinician, point_fields):
    from treatments.services import add_point

    record = consented_draft.patient.consents.order_by("-signed_at").first()
    general = add_point(consented_draft, by=clinician, **point_fields)
    neck = add_point(
        consented_draft,
        by=clinician,
        **{
            **point_fields,
            "muscle": muscle("Upper trapezius"),
            "needle_size": needle("0.25", 30),
            "depth_mm": 15,
        },
    )
    assert (general.consent, general.region_consent) == (record, None)
    assert (neck.consent, neck.region_consent) == (record, record)


def test_a_withdrawal_committed_after_the_service_checked_is_still_refused_with_a_message(
    consented_draft, clinician, point_fields, monkeypatch
):
    """The race: the consent is withdrawn between the service's check and the insert. The database's
    refusal reaches the clinician as a message, not a server error."""
    from consent.errors import NeedlingNotAllowed
    from treatments import services

    record = consented_draft.patient.consents.order_by("-signed_at").first()
    real_check = services._check_point

    def check_then_withdraw(point, *, by, at, **loaded_once):
        real_check(point, by=by, at=at, **loaded_once)
        withdraw_consent(record, by=clinician, reason="Changed her mind while we talked")
        from django.utils import timezone

        point.recorded_at = timezone.now()  # the moment of the insert, after the withdrawal

    monkeypatch.setattr(services, "_check_point", check_then_withdraw)
    with pytest.raises(NeedlingNotAllowed, match="The point was not saved: .*no consent allowing needling"):
        services.add_point(consented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


# No needling at all without the general risks accepted; the assessment may come first.


NO_CONSENT = "No consent for needling is on file for Zoë Côté"


def gluteus_post(**overrides):
    return {
        "muscle": muscle("Gluteus medius").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.30", 60).pk,
        "depth_mm": "40",
        "insertions": "2",
        "technique": "pistoning",
        "twitch_response": "single",
        "patient_response": "familiar",
        "notes": "",
        **overrides,
    }


def test_without_consent_a_general_point_is_refused_by_the_service(
    unconsented_draft, clinician, point_fields
):
    with pytest.raises(NeedlingNotAllowed, match=NO_CONSENT):
        add_point(unconsented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_without_consent_a_direct_model_save_is_refused_by_the_database(unconsented_draft, point_fields):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="no consent allowing needling"), transaction.atomic():
        NeedlePoint.objects.create(session=unconsented_draft, order=1, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_without_consent_the_point_form_post_shows_the_message_and_saves_nothing(client, unconsented_draft):
    client.force_login(unconsented_draft.clinician)
    url = reverse("treatments:point_add", args=[unconsented_draft.pk])
    response = client.post(url, gluteus_post(), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert NO_CONSENT in page and 'data-testid="point-errors"' in page
    response = client.post(url, gluteus_post(), follow=True)  # without htmx too
    assert response.status_code == 200 and NO_CONSENT in response.content.decode()
    assert not NeedlePoint.objects.exists()


def test_a_general_point_is_refused_when_the_general_risks_were_declined(
    unconsented_draft, clinician, point_fields
):
    give_consent(unconsented_draft.patient, accepted=(Region.NECK, Region.MID_BACK))
    today = timezone.localdate().isoformat()
    with pytest.raises(NeedlingNotAllowed, match=f"general risks of needling were declined on {today}"):
        add_point(unconsented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()


def test_a_general_point_is_refused_once_the_consent_is_withdrawn(draft, clinician, point_fields):
    consent = draft.patient.consents.get()
    point = add_point(draft, by=clinician, **point_fields)
    withdraw_consent(consent, by=clinician, reason="Does not want needling any more")
    with pytest.raises(NeedlingNotAllowed, match="consent for needling was withdrawn"):
        add_point(draft, by=clinician, **{**point_fields, "side": "L"})
    with pytest.raises(NeedlingNotAllowed, match="withdrawn"):
        update_point(point, by=clinician, depth_mm=30)  # a correction is a point too
    assert draft.points.count() == 1 and draft.points.get().depth_mm == 40


def test_a_neck_point_is_refused_when_the_neck_was_accepted_but_the_general_risks_declined(
    unconsented_draft, clinician, point_fields
):
    give_consent(unconsented_draft.patient, accepted=(Region.NECK,))
    with pytest.raises(NeedlingNotAllowed, match="general risks of needling were declined"):
        add_point(
            unconsented_draft,
            by=clinician,
            **{
                **point_fields,
                "muscle": muscle("Upper trapezius"),
                "needle_size": needle("0.25", 30),
                "depth_mm": 15,
            },
        )
    assert not NeedlePoint.objects.exists()


def test_a_version_requiring_reconsent_stops_every_point(draft, clinician, point_fields):
    newer = ConsentFormFactory(requires_reconsent=True)
    with pytest.raises(NeedlingNotAllowed, match=f"re-consent on form version {newer.version}"):
        add_point(draft, by=clinician, **point_fields)
    give_consent(draft.patient, form=newer)
    assert add_point(draft, by=clinician, **point_fields).pk


def test_a_session_is_started_without_consent_and_the_screen_says_no_point_can_be_added(
    client, clinician, patient
):
    session = start_session(patient=patient, clinician=clinician)
    assert session.pk and not patient.consents.exists()
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert 'data-testid="no-needling-consent"' in page
    assert "No point can be added until consent is on file" in page
    assert reverse("consent:obtain", args=[patient.pk]) in page
    assert "General: No consent" in page
    give_consent(patient)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert "No point can be added until consent is on file" not in page


def test_sessions_start_without_consent_from_the_chart_and_from_an_appointment(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(reverse("treatments:start", args=[patient.pk]))
    session = NeedlingSession.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == reverse(
        "treatments:session", args=[session.pk]
    )
    appointment = AppointmentFactory(therapist=clinician, status="arrived")
    started = start_session_from_appointment(appointment, by=clinician)
    assert started.appointment == appointment and not appointment.patient.consents.exists()
    appointment.refresh_from_db()
    assert appointment.status == "in_treatment"


def test_a_signed_session_shows_no_consent_warning(client, draft, clinician, point_fields):
    from tests.factories import complete_session
    from treatments.services import sign_session

    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    sign_session(draft, by=clinician)
    withdraw_consent(draft.patient.consents.get(), by=clinician, reason="Moved away")
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert "General: Withdrawn" in page
    assert 'data-testid="no-needling-consent"' not in page  # the record is signed: nothing to add


# One definition: consent_allows() in SQL and consent_status() in Python agree.


REGIONS = ("general", "neck", "mid_back")


def sql_allows(patient, region, at):
    with connection.cursor() as cursor:
        cursor.execute("SELECT consent_allows(%s, %s, %s)", [patient.pk, region, at])
        return cursor.fetchone()[0]


def python_allows(patient, region, at):
    statuses = consent_status([patient], at=at)[patient.pk]
    return statuses[Region.GENERAL].allowed and (region == "general" or statuses[Region(region)].allowed)


def agree_everywhere(patient, moments):
    for at in moments:
        for region in REGIONS:
            assert sql_allows(patient, region, at) == python_allows(patient, region, at), (region, at)
        assert {r for r in REGIONS if sql_allows(patient, r, at)} == set(allowed_regions(patient, at=at))


@pytest.fixture
def form(db):
    return ConsentFormFactory()


def test_no_consent(patient, form):
    agree_everywhere(patient, [timezone.now()])
    assert not sql_allows(patient, "general", timezone.now())


@pytest.mark.parametrize(
    ("accepted", "declined"),
    [
        ((Region.GENERAL, Region.NECK, Region.MID_BACK), ()),
        ((Region.GENERAL,), (Region.NECK, Region.MID_BACK)),
        ((Region.NECK, Region.MID_BACK), (Region.GENERAL,)),
        ((Region.GENERAL, Region.MID_BACK), (Region.NECK,)),
    ],
)
def test_each_decision_before_and_after_signing(patient, form, accepted, declined):
    before = timezone.now()
    give_consent(patient, accepted=accepted, declined=declined, form=form)
    agree_everywhere(patient, [before, timezone.now()])


def test_a_withdrawal_grants_nothing_from_then_on(patient, form):
    record = give_consent(patient, form=form)
    while_held = timezone.now()
    withdraw_consent(record, by=PhysioFactory(), reason="Changed her mind")
    agree_everywhere(patient, [while_held, timezone.now()])
    assert sql_allows(patient, "neck", while_held) and not sql_allows(patient, "neck", timezone.now())


def test_the_newest_consent_decides_not_an_older_acceptance(patient, form):
    give_consent(patient, form=form)
    give_consent(patient, accepted=(Region.GENERAL,), declined=(Region.NECK, Region.MID_BACK), form=form)
    agree_everywhere(patient, [timezone.now()])
    assert not sql_allows(patient, "neck", timezone.now())


def test_a_version_requiring_reconsent_supersedes_earlier_consents_once_in_effect(patient, form):
    give_consent(patient, form=form)
    before = timezone.now()
    later = ConsentFormFactory(requires_reconsent=True)
    agree_everywhere(patient, [before, timezone.now()])
    assert sql_allows(patient, "general", before) and not sql_allows(patient, "general", timezone.now())
    give_consent(patient, form=later)
    agree_everywhere(patient, [timezone.now()])
    assert sql_allows(patient, "mid_back", timezone.now())


def test_a_reconsent_version_not_yet_in_effect_supersedes_nothing(patient, form):
    give_consent(patient, form=form)
    ConsentFormFactory(requires_reconsent=True, effective_date=timezone.localdate() + timedelta(days=3))
    agree_everywhere(patient, [timezone.now(), timezone.now() + timedelta(days=4)])
    assert sql_allows(patient, "general", timezone.now())
    assert not sql_allows(patient, "general", timezone.now() + timedelta(days=4))


def test_a_version_without_a_region_leaves_it_to_the_consent_that_decided_it(patient, form):
    from consent.models import RiskItem

    give_consent(patient, form=form)  # accepts the neck
    general_only = ConsentFormFactory(risks=False)
    RiskItem.objects.bulk_create(
        [RiskItem(form=general_only, region=Region.GENERAL, title="Soreness", description="Soreness.")]
    )
    give_consent(patient, form=general_only)
    agree_everywhere(patient, [timezone.now()])
    assert sql_allows(patient, "neck", timezone.now())
