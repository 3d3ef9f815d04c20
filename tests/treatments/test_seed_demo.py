import pytest
from django.core.management import call_command
from django.db.models import Count

from consent.models import Region
from consent.services import consent_status
from treatments.models import NeedlePoint, NeedlingSession, SideEffect
from treatments.services import missing_for_signing, verify_content_hash

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_hashing")]


@pytest.fixture
def seeded():
    call_command("seed_demo", "--size", "60", "--quiet")


@pytest.mark.clock
def test_the_default_demo_has_a_few_hundred_sessions_mostly_signed_and_drafts_today(seeded):
    sessions = NeedlingSession.objects.count()
    drafts = NeedlingSession.objects.filter(signed_at__isnull=True)
    assert 200 <= sessions <= 900
    assert 1 <= drafts.count() <= 3
    assert all(d.appointment.status == "in_treatment" for d in drafts)
    points = NeedlePoint.objects.count()
    assert 7 <= points / sessions <= 13


def test_signed_demo_sessions_are_complete_and_their_hashes_hold(seeded):
    for session in NeedlingSession.objects.filter(signed_at__isnull=False).order_by("?")[:25]:
        assert missing_for_signing(session) == []
        assert verify_content_hash(session)
        assert session.appointment.status == "completed"


def test_neck_and_mid_back_are_needled_only_where_the_demo_consent_allows(seeded):
    risk_points = (
        NeedlePoint.objects.exclude(muscle__risk_region="none")
        .values("session__patient_id", "muscle__risk_region")
        .distinct()
    )
    assert risk_points
    statuses = consent_status({row["session__patient_id"] for row in risk_points})
    for row in risk_points:
        assert statuses[row["session__patient_id"]][Region(row["muscle__risk_region"])].allowed


def test_only_patients_whose_consent_accepts_the_general_risks_have_demo_sessions(seeded):
    from appointments.models import Appointment
    from patients.models import Patient

    statuses = consent_status(Patient.objects.values_list("id", flat=True))
    treated = set(
        NeedlingSession.objects.filter(signed_at__isnull=False).values_list("patient_id", flat=True)
    )
    assert treated and all(statuses[pk][Region.GENERAL].allowed for pk in treated)
    completed = Appointment.objects.filter(status="completed")
    without = completed.filter(needling_session__isnull=True).values_list("patient_id", flat=True)
    assert without.exists()  # patients without the general risks accepted: their visits have no session
    assert not any(statuses[pk][Region.GENERAL].allowed for pk in without)
    # Most completed visits still have their session.
    assert completed.filter(needling_session__isnull=False).count() >= 0.7 * completed.count()


def test_twitch_responses_and_side_effect_rates_are_close_to_the_published_ones(seeded):
    twitches = dict(NeedlePoint.objects.values_list("twitch_response").annotate(n=Count("id")))
    assert twitches["single"] > 0 and twitches["multiple"] > 0
    sessions = NeedlingSession.objects.filter(signed_at__isnull=False).count()
    with_effects = SideEffect.objects.values("session").distinct().count()
    # Brady et al. 2014: 19.18% of treatments had a mild effect; a few hundred sessions vary around it.
    assert 0.10 <= with_effects / sessions <= 0.30
    assert SideEffect.objects.filter(type="bruising").exists()


def test_seeding_twice_adds_nothing(seeded):
    counts = (NeedlingSession.objects.count(), NeedlePoint.objects.count(), SideEffect.objects.count())
    call_command("seed_demo", "--size", "60", "--quiet")
    assert (
        NeedlingSession.objects.count(),
        NeedlePoint.objects.count(),
        SideEffect.objects.count(),
    ) == counts
