"""Contraindications stop the needle, precautions slow it (issue 11, part 3; DESIGN.md rule 6): every
door refuses a point a contraindication found at screening covers, naming the item; a precaution needs
the clinician's acknowledgement for the session; a due screening comes first, said on the screen before
any point is tried.

The screening names where a site item is, asks the pneumothorax risk factors, and an older screening
shows those as "not asked", never as a silent "no".
"""

import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import Action, AuditEvent
from patients.models import SCREENING_ITEMS, Screening, ScreeningRule
from tests.factories import NeedlingSessionFactory, ScreeningFactory, give_consent, muscle, needle
from treatments.models import NeedlePoint, PrecautionAcknowledgement
from treatments.services import (
    Contraindicated,
    PrecautionNotAcknowledged,
    ScreeningDue,
    acknowledge_precautions,
    add_point,
)

pytestmark = pytest.mark.django_db


def calf(side="R"):
    return {
        "muscle": muscle("Gastrocnemius (lateral head)"),
        "side": side,
        "needle_size": needle("0.30", 50),
        "depth_mm": 25,
    }


def neck(side="R"):
    return {
        "muscle": muscle("Upper trapezius"),
        "side": side,
        "needle_size": needle("0.25", 30),
        "depth_mm": 15,
    }


@pytest.fixture
def session_for(clinician):
    """session_for(**screening answers) -> a draft for a consented patient screened today with them."""

    def make(**answers):
        screening = ScreeningFactory(**answers)
        give_consent(screening.patient)
        return NeedlingSessionFactory(patient=screening.patient, clinician=clinician)

    return make


@pytest.fixture
def cellulitis_right_calf(session_for):
    return session_for(
        infection_at_site=True,
        infection_at_site_note="Cellulitis right calf",
        infection_at_site_site=["calf"],
        infection_at_site_side="R",
    )


# --- the reproduction of issue 11: C000049, cellulitis of the right calf --------------------------------
def test_c000049_a_right_gastrocnemius_point_under_cellulitis_of_the_right_calf_is_refused_naming_it(
    cellulitis_right_calf, clinician
):
    with pytest.raises(Contraindicated) as refused:
        add_point(cellulitis_right_calf, by=clinician, **calf("R"))
    message = refused.value.messages[0]
    assert "Infection at the site (Cellulitis right calf)" in message
    assert "is a contraindication: no needling at the site: calf, right" in message
    assert not NeedlePoint.objects.exists()
    refusal = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=clinician)
    assert "Infection at the site (Cellulitis right calf)" in refusal.detail


def test_the_point_form_and_the_htmx_row_refuse_it_with_the_item_named(client, cellulitis_right_calf):
    client.force_login(cellulitis_right_calf.clinician)
    post = {
        "muscle": muscle("Gastrocnemius (lateral head)").pk,
        "side": "R",
        "segment": "",
        "needle_size": needle("0.30", 50).pk,
        "depth_mm": "25",
        "insertions": "1",
        "technique": "pistoning",
        "twitch_response": "none",
        "patient_response": "none",
    }
    url = reverse("treatments:point_add", args=[cellulitis_right_calf.pk])
    page = client.post(url, post, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="point-errors"' in page and "Infection at the site (Cellulitis right calf)" in page
    page = client.post(url, post, follow=True).content.decode()
    assert "Infection at the site (Cellulitis right calf)" in page
    assert not NeedlePoint.objects.exists()


def test_the_other_calf_and_other_sites_may_still_be_needled(cellulitis_right_calf, clinician):
    assert add_point(cellulitis_right_calf, by=clinician, **calf("L")).pk
    assert add_point(
        cellulitis_right_calf,
        by=clinician,
        **{**neck(), "muscle": muscle("Gluteus medius"), "needle_size": needle("0.30", 60), "depth_mm": 40},
    ).pk


def test_a_bilateral_point_at_the_site_is_refused(cellulitis_right_calf, clinician):
    with pytest.raises(Contraindicated):
        add_point(cellulitis_right_calf, by=clinician, **calf("B"))


def test_a_site_item_with_no_site_named_refuses_every_point(session_for, clinician):
    session = session_for(lymphoedema=True, lymphoedema_note="after surgery")
    with pytest.raises(Contraindicated, match="no needling every point \\(no site named\\)"):
        add_point(session, by=clinician, **calf("L"))


def test_inability_to_consent_blocks_all_needling(session_for, clinician):
    session = session_for(unable_to_consent=True)
    for point in (calf("L"), neck("R")):
        with pytest.raises(Contraindicated, match="Inability to consent.*no needling at all this session"):
            add_point(session, by=clinician, **point)
    assert not NeedlePoint.objects.exists()


@pytest.mark.parametrize(
    ("item", "database_says"),
    [
        ("infection_at_site", "Infection at the site (Cellulitis right calf)"),
        ("unable_to_consent", "Inability"),
    ],
)
def test_the_database_refuses_a_contraindicated_point_from_bulk_create_and_raw_sql(
    session_for, clinician, item, database_says
):
    answers = {item: True}
    if item == "infection_at_site":
        answers.update(infection_at_site_note="Cellulitis right calf", infection_at_site_site=["calf"],
                       infection_at_site_side="R")  # fmt: skip
    session = session_for(**answers)
    record = session.patient.consents.get()
    point = NeedlePoint(session=session, order=1, consent=record, **calf("R"))
    with pytest.raises(IntegrityError, match=re.escape(database_says)), transaction.atomic():
        NeedlePoint.objects.bulk_create([point])
    with (
        pytest.raises(IntegrityError, match="is a contraindication to needling here"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            'INSERT INTO treatments_needlepoint (session_id, "order", muscle_id, side, segment, '
            "needle_size_id, depth_mm, insertions, technique, twitch_response, patient_response, "
            "depth_confirmed, notes, consent_id) "
            "VALUES (%s, 1, %s, 'R', '', %s, 25, 1, 'static', 'none', 'none', false, '', %s)",
            [session.pk, muscle("Gastrocnemius (lateral head)").pk, needle("0.30", 50).pk, record.pk],
        )
    assert not NeedlePoint.objects.exists()


# --- precautions ------------------------------------------------------------------------------------
def test_a_precaution_needs_the_clinicians_acknowledgement_for_the_session(session_for, clinician):
    session = session_for(bleeding_risk=True, bleeding_risk_note="Takes apixaban")
    with pytest.raises(
        PrecautionNotAcknowledged, match="Bleeding disorder or anticoagulants \\(Takes apixaban\\)"
    ):
        add_point(session, by=clinician, **calf())
    acknowledge_precautions(session, by=clinician, items=["bleeding_risk"])
    point = add_point(session, by=clinician, **calf())
    acknowledgement = PrecautionAcknowledgement.objects.get()
    assert (acknowledgement.session, acknowledgement.acknowledged_by, point.order) == (session, clinician, 1)
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, detail__contains="precautions acknowledged"
    ).exists()


def test_the_acknowledgement_is_needed_again_next_session(session_for, clinician):
    first = session_for(bleeding_risk=True)
    acknowledge_precautions(first, by=clinician, items=["bleeding_risk"])
    add_point(first, by=clinician, **calf())
    following = NeedlingSessionFactory(patient=first.patient, clinician=clinician)
    with pytest.raises(PrecautionNotAcknowledged):
        add_point(following, by=clinician, **calf())


@pytest.mark.parametrize("item", ["chronic_lung_disease", "previous_pneumothorax", "low_body_mass"])
def test_pneumothorax_risk_factors_are_precautions_for_the_neck_and_mid_back_only(
    session_for, clinician, item
):
    session = session_for(**{item: True})
    add_point(session, by=clinician, **calf())  # a calf point needs no acknowledgement
    for point in (neck(), {**neck(), "muscle": muscle("Rhomboid major")}):
        with pytest.raises(PrecautionNotAcknowledged, match="precaution for neck and mid back points"):
            add_point(session, by=clinician, **point)
    acknowledge_precautions(session, by=clinician, items=[item])
    assert add_point(session, by=clinician, **neck()).pk


def test_the_database_refuses_an_unacknowledged_precaution_and_accepts_it_acknowledged(
    session_for, clinician
):
    session = session_for(previous_pneumothorax=True, previous_pneumothorax_note="2019, left")
    record = session.patient.consents.get()
    point = NeedlePoint(session=session, order=1, consent=record, region_consent=record, **neck())
    with (
        pytest.raises(
            IntegrityError, match="Previous pneumothorax \\(2019, left\\).*precaution not acknowledged"
        ),
        transaction.atomic(),
    ):
        NeedlePoint.objects.bulk_create([point])
    acknowledge_precautions(session, by=clinician, items=["previous_pneumothorax"])
    NeedlePoint.objects.bulk_create([point])
    assert NeedlePoint.objects.count() == 1


def test_only_a_precaution_found_on_the_current_screening_is_acknowledged(session_for, clinician):
    session = session_for(bleeding_risk=True, unable_to_consent=True)
    with pytest.raises(ValidationError, match="Not a precaution found on the current screening: Inability"):
        acknowledge_precautions(session, by=clinician, items=["unable_to_consent"])
    with pytest.raises(ValidationError, match="Not a precaution"):
        acknowledge_precautions(session, by=clinician, items=["diabetes"])
    assert not PrecautionAcknowledgement.objects.exists()


def test_acknowledgements_are_kept_as_written(session_for, clinician):
    session = session_for(diabetes=True)
    acknowledge_precautions(session, by=clinician, items=["diabetes"])
    for sql in (
        "UPDATE treatments_precautionacknowledgement SET item = 'epilepsy'",
        "DELETE FROM treatments_precautionacknowledgement",
    ):
        with (
            pytest.raises(DatabaseError, match="kept as it was written"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert PrecautionAcknowledgement.objects.get().item == "diabetes"


def test_the_session_screen_lists_findings_and_acknowledges_precautions(client, session_for, clinician):
    session = session_for(
        bleeding_risk=True,
        recent_surgery=True,
        recent_surgery_note="Shoulder arthroscopy",
        recent_surgery_site=["shoulder_front", "shoulder_back"],
        recent_surgery_side="R",
    )
    client.force_login(clinician)
    url = reverse("treatments:session", args=[session.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="contraindication"' in page
    assert (
        "Recent surgery near the site (Shoulder arthroscopy)" in page
        and "Shoulder (front), shoulder blade" in page
    )
    assert "not acknowledged for this session" in page and 'data-testid="acknowledge-form"' in page
    response = client.post(
        reverse("treatments:acknowledge", args=[session.pk]), {"item": ["bleeding_risk"]}, follow=True
    )
    page = response.content.decode()
    assert "Acknowledged for this session: Bleeding disorder or anticoagulants." in page
    assert 'data-testid="precaution-acknowledged"' in page and 'data-testid="acknowledge-form"' not in page


def test_the_visit_summary_shows_the_acknowledged_precaution(client, session_for, clinician):
    session = session_for(low_body_mass=True, low_body_mass_note="BMI 17")
    acknowledge_precautions(session, by=clinician, items=["low_body_mass"])
    client.force_login(clinician)
    response = client.get(reverse("treatments:pdf", args=[session.pk]))
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages
    )
    assert (
        "Precaution: Low body mass / thin chest wall (BMI 17) (neck and mid back points): acknowledged by"
        in text
    )


# --- a due screening comes first --------------------------------------------------------------------------
def test_without_a_screening_no_point_is_added_and_the_screen_says_so_first(client, clinician):
    from tests.factories import PatientFactory

    patient = PatientFactory()
    give_consent(patient)
    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert 'data-testid="screening-due"' in page and "none on file" in page
    assert reverse("patients:screening", args=[patient.pk]) in page
    with pytest.raises(ScreeningDue, match="The screening is due \\(none is on file\\)"):
        add_point(session, by=clinician, **calf())


def test_a_screening_older_than_the_valid_months_is_due(client, clinician, settings):
    settings.SCREENING_VALID_MONTHS = 12
    old = ScreeningFactory(answered_at=timezone.now() - timedelta(days=400))
    give_consent(old.patient)
    session = NeedlingSessionFactory(patient=old.patient, clinician=clinician)
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[session.pk])).content.decode()
    assert 'data-testid="screening-due"' in page
    with pytest.raises(ScreeningDue, match="the last one was on"):
        add_point(session, by=clinician, **calf())
    ScreeningFactory(patient=old.patient)  # reviewed with the patient today
    assert add_point(session, by=clinician, **calf()).pk


def test_a_screening_that_never_asked_the_pneumothorax_questions_waits_for_a_new_one_before_the_neck(
    clinician,
):
    older = ScreeningFactory(chronic_lung_disease=None, previous_pneumothorax=None, low_body_mass=None)
    give_consent(older.patient)
    session = NeedlingSessionFactory(patient=older.patient, clinician=clinician)
    assert add_point(session, by=clinician, **calf()).pk
    with pytest.raises(ScreeningDue, match="did not ask about the pneumothorax risk factors"):
        add_point(session, by=clinician, **neck())


# --- the administrator classifies ---------------------------------------------------------------------
def test_the_administrator_reclassifies_an_item_and_every_door_follows(client_for, session_for, clinician):
    session = session_for(pregnancy=True, pregnancy_note="First trimester")
    rule = ScreeningRule.objects.get(item="pregnancy")
    client = client_for("administrator")
    response = client.post(
        f"/admin/patients/screeningrule/{rule.pk}/change/",
        {
            "kind": "contraindication",
            "applies_to": "all",
            "reason": "Clinic policy: no needling in pregnancy.",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action=Action.UPDATE, object_type="patients.screeningrule").detail.endswith(
        "changed in the admin: kind, reason"
    )
    with pytest.raises(Contraindicated, match=r"Pregnancy \(First trimester\).*Clinic policy"):
        add_point(session, by=clinician, **calf())
    record = session.patient.consents.get()
    with pytest.raises(IntegrityError, match="Pregnancy"), transaction.atomic():
        NeedlePoint.objects.bulk_create([NeedlePoint(session=session, order=1, consent=record, **calf())])


def test_a_rule_limited_to_a_site_is_only_for_an_item_that_names_one(client_for):
    rule = ScreeningRule.objects.get(item="diabetes")
    response = client_for("administrator").post(
        f"/admin/patients/screeningrule/{rule.pk}/change/",
        {"kind": "contraindication", "applies_to": "site", "reason": "x"},
    )
    assert "Only an item that names a site can apply to that site alone." in response.content.decode()
    rule.refresh_from_db()
    assert rule.kind == "precaution"


def test_every_checklist_item_has_a_documented_default_rule():
    from patients.models import SCREENING_ITEMS

    rules = {rule.item: rule for rule in ScreeningRule.objects.all()}
    assert set(rules) == {key for key, _label in SCREENING_ITEMS}
    assert all(rule.reason for rule in rules.values())
    assert (
        rules["unable_to_consent"].kind == "contraindication"
        and rules["unable_to_consent"].applies_to == "all"
    )
    assert {rules[key].applies_to for key in ("lymphoedema", "infection_at_site", "recent_surgery")} == {
        "site"
    }
    for key in ("chronic_lung_disease", "previous_pneumothorax", "low_body_mass"):
        assert (rules[key].kind, rules[key].applies_to) == ("precaution", "neck_and_mid_back")


# --- the screening names the site ------------------------------------------------------------------------


def answers(**yes):
    data = {}
    for key, _label in SCREENING_ITEMS:
        data[key] = "yes" if key in yes else "no"
        data[f"{key}_note"] = yes.get(key, "")
    return data


def test_a_site_item_records_its_regions_and_side(client_for, zoe):
    data = answers(infection_at_site="Cellulitis right calf")
    data.update({"infection_at_site_site": ["calf"], "infection_at_site_side": "R"})
    response = client_for(Role.PHYSIO).post(reverse("patients:screening", args=[zoe.pk]), data)
    assert response.status_code == 302
    screening = Screening.objects.get(patient=zoe)
    assert screening.infection_at_site_site == ["calf"] and screening.infection_at_site_side == "R"
    assert screening.site_label("infection_at_site") == "Calf, right"


def test_a_site_answered_no_keeps_no_site(client_for, zoe):
    data = answers()
    data.update({"lymphoedema_site": ["forearm_front"], "lymphoedema_side": "L"})
    client_for(Role.PHYSIO).post(reverse("patients:screening", args=[zoe.pk]), data)
    screening = Screening.objects.get(patient=zoe)
    assert (
        screening.lymphoedema is False
        and screening.lymphoedema_site == []
        and screening.lymphoedema_side == ""
    )


@pytest.mark.parametrize("item", ["chronic_lung_disease", "previous_pneumothorax", "low_body_mass"])
def test_the_pneumothorax_risk_factors_must_be_answered(client_for, zoe, item):
    data = answers()
    del data[item]
    response = client_for(Role.PHYSIO).post(reverse("patients:screening", args=[zoe.pk]), data)
    assert "Answer yes or no" in response.content.decode()
    assert not Screening.objects.exists()


def test_an_older_screening_shows_the_pneumothorax_questions_as_not_asked(client_for, zoe):
    ScreeningFactory(patient=zoe, chronic_lung_disease=None, previous_pneumothorax=None, low_body_mass=None)
    page = client_for(Role.PHYSIO).get(reverse("patients:chart", args=[zoe.pk])).content.decode()
    assert "Previous pneumothorax: <strong>not asked</strong>" in page


def test_the_chart_shows_where_a_site_finding_is(client_for, zoe):
    ScreeningFactory(
        patient=zoe,
        lymphoedema=True,
        lymphoedema_note="After mastectomy",
        lymphoedema_site=["upper_arm_front", "forearm_front"],
        lymphoedema_side="L",
    )
    page = client_for(Role.PHYSIO).get(reverse("patients:chart", args=[zoe.pk])).content.decode()
    assert "Upper arm (front), forearm (flexors), left" in page and "After mastectomy" in page
