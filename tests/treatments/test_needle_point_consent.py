"""Consent is held by the database (issue 11, part 2): a needle point refers to the consents that allowed
it, and every door refuses a point the patient's consent does not allow, for each way consent can be
missing. The doors: raw SQL, bulk_create, objects.create, the point form (a plain POST), the htmx row and
the admin. The service answers first with a message naming what is missing (the form and the htmx row);
the database is the backstop for the rest (consent migration 0004, treatments migration 0006)."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import Action, AuditEvent
from consent.models import Region
from consent.services.obtaining import withdraw_consent
from tests.factories import ConsentFormFactory, give_consent, muscle, needle
from treatments.models import NeedlePoint

pytestmark = pytest.mark.django_db


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

    def check_then_withdraw(point, *, by, at):
        real_check(point, by=by, at=at)
        withdraw_consent(record, by=clinician, reason="Changed her mind while we talked")
        from django.utils import timezone

        point.recorded_at = timezone.now()  # the moment of the insert, after the withdrawal

    monkeypatch.setattr(services, "_check_point", check_then_withdraw)
    with pytest.raises(NeedlingNotAllowed, match="The point was not saved: .*no consent allowing needling"):
        services.add_point(consented_draft, by=clinician, **point_fields)
    assert not NeedlePoint.objects.exists()
