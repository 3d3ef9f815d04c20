"""The badges and flags of patient lists read each patient's latest screening with one fixed statement
(patients.services.LATEST_FINDINGS_SQL, on the view patients_screening_finding; issue 17). These tests hold
it to what the ORM gives: the latest Screening (latest_screenings()), its findings (findings() with the
clinic's rules) and its flags (Screening.flags), over patients with several screenings (a later one, two at
the same instant), every item answered yes, items not asked (NULL), named sites and sides, rules the clinic
changed or lacks, and patients never screened. The badges themselves are tested in test_chart_hooks.py and
test_screening.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.chart import screening_badges
from patients.models import LATER_ITEMS, SCREENING_ITEMS, AppliesTo, FindingKind, ScreeningRule
from patients.services import (
    LatestScreening,
    findings,
    latest_screening_findings,
    latest_screenings,
    screening_flags,
    screening_rules,
)
from tests.factories import PatientFactory, ScreeningFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]


@pytest.fixture
def screened():
    """Patients screened in every way that matters to the statement; the last is never screened."""
    now = timezone.now()
    every = {key: True for key, _label in SCREENING_ITEMS}
    notes = {f"{key}_note": f"note on {key}" for key, _label in SCREENING_ITEMS}
    sites = {
        "lymphoedema_site": ["upper_arm_front", "forearm_front"],
        "lymphoedema_side": "L",
        "recent_surgery_site": ["calf"],
        "recent_surgery_side": "",
        "infection_at_site_site": ["thigh_back"],
        "infection_at_site_side": "B",
    }
    patients = []
    # Every item yes, with notes and sites.
    patients.append(ScreeningFactory(**every, **notes, **sites).patient)
    # Every answer no.
    patients.append(ScreeningFactory().patient)
    # An old screening before the pneumothorax questions (NULL: not asked), one item yes.
    patients.append(
        ScreeningFactory(
            answered_at=now - timedelta(days=500), diabetes=True, **dict.fromkeys(LATER_ITEMS, None)
        ).patient
    )
    # Several screenings: the latest decides, not the one saved last.
    several = PatientFactory()
    ScreeningFactory(patient=several, answered_at=now - timedelta(days=3), epilepsy=True)
    ScreeningFactory(
        patient=several, answered_at=now - timedelta(days=1), pregnancy=True, pregnancy_note="20w"
    )
    ScreeningFactory(patient=several, answered_at=now - timedelta(days=2), bleeding_risk=True)
    patients.append(several)
    # Two at the same instant: the higher id decides.
    tie = PatientFactory()
    ScreeningFactory(patient=tie, answered_at=now - timedelta(hours=1), metal_allergy=True)
    ScreeningFactory(patient=tie, answered_at=now - timedelta(hours=1), infection_at_site=True)
    patients.append(tie)
    # A site item yes with no site named, and a yes in a later item only.
    patients.append(ScreeningFactory(recent_surgery=True, low_body_mass=True).patient)
    patients.append(PatientFactory())
    return patients


def _orm(patients):
    """What the ORM gives for the same patients: {patient_id: LatestScreening}."""
    latest = latest_screenings(patients)
    rules = screening_rules()
    return {pk: LatestScreening.of(screening, rules) for pk, screening in latest.items()}


def test_the_statement_gives_the_latest_screenings_findings_and_flags(screened):
    read = latest_screening_findings(screened)
    assert read == _orm(screened)
    assert set(read) == {p.pk for p in screened[:-1]}  # the last was never screened
    # Every item comes through, with its note and site, checklist order in the flags.
    every = read[screened[0].pk]
    assert every.flags == [label for _key, label in SCREENING_ITEMS]
    assert {f.item for f in every.findings} == {key for key, _label in SCREENING_ITEMS}
    sites = {f.item: (f.regions, f.side, f.site_label) for f in every.findings if f.regions}
    assert sites == {
        "lymphoedema": (
            ("upper_arm_front", "forearm_front"),
            "L",
            "Upper arm (front), forearm (flexors), left",
        ),
        "recent_surgery": (("calf",), "", "Calf"),
        "infection_at_site": (("thigh_back",), "B", "Thigh (back), both sides"),
    }
    assert all(f.note == f"note on {f.item}" for f in every.findings)
    assert [f.label for f in read[screened[3].pk].findings] == ["Pregnancy"]
    assert [f.label for f in read[screened[4].pk].findings] == ["Infection at the site"]


def test_the_clinics_rules_as_they_are_now(screened):
    # The administrator changes a rule (audited in the admin; here as the admin's save would), and an item
    # loses its rule: the statement follows, as findings() does.
    ScreeningRule.objects.filter(item="diabetes").update(
        kind=FindingKind.CONTRAINDICATION, applies_to=AppliesTo.ALL_POINTS, reason="Changed."
    )
    ScreeningRule.objects.filter(item="recent_surgery").update(applies_to=AppliesTo.NAMED_SITE)
    ScreeningRule.objects.filter(item="epilepsy").delete()
    read = latest_screening_findings(screened)
    assert read == _orm(screened)
    diabetes = next(f for f in read[screened[2].pk].findings if f.item == "diabetes")
    assert (diabetes.is_contraindication, diabetes.reason) == (True, "Changed.")
    epilepsy = next(f for f in read[screened[0].pk].findings if f.item == "epilepsy")
    assert (epilepsy.kind, epilepsy.applies_to, epilepsy.reason) == (FindingKind.PRECAUTION, "all", "")


def test_screening_flags_and_badges_agree_with_the_orm(screened):
    latest = latest_screenings(screened)
    flags = screening_flags(screened)
    assert flags == {p.pk: (latest[p.pk].flags if p.pk in latest else []) for p in screened}
    # The badges from the statement and from Screening rows the caller already has (the chart) agree.
    given = {p.pk: latest.get(p.pk) for p in screened}
    assert screening_badges(screened) == screening_badges(screened, given)


def test_one_statement_for_any_number_of_patients(screened):
    with CaptureQueriesContext(connection) as one:
        latest_screening_findings(screened[:1])
    with CaptureQueriesContext(connection) as every:
        latest_screening_findings(screened)
    assert len(one) == len(every) == 1
    with CaptureQueriesContext(connection) as none:
        assert latest_screening_findings([]) == {}
    assert len(none) == 0
    # And findings() of a Screening read through the ORM is unchanged by the statement's helpers.
    screening = latest_screenings(screened[:1])[screened[0].pk]
    assert findings(screening) == latest_screening_findings(screened[:1])[screened[0].pk].findings


def test_the_search_with_flagged_patients_takes_six_queries(client_for, django_assert_max_num_queries):
    """Session, user, second factor, the search, the latest screenings with their findings and rules (one
    statement: before issue 17 the rules were a seventh query whenever a result had a finding), consent."""
    from django.urls import reverse

    from accounts.models import Role
    from tests.factories import give_consent

    for index in range(25):
        patient = ScreeningFactory(
            patient=PatientFactory(family_name="Tremblay"), needle_phobia=index % 2 == 0, diabetes=True
        ).patient
        if index % 3:
            give_consent(patient)
    client = client_for(Role.FRONT_DESK)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("patients:list"), {"q": "tremb"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.count(">Needle phobia<") == 13 and page.count(">Diabetes<") == 25
    assert page.count("Consent on file") == 16
