"""One definition of consent (issue 11, part 2): the database's consent_allows() (consent migration 0004),
which the needle point trigger and the reports' coverage call, and consent_status(), which explains it in
words on the screens, agree for every way consent can stand, at every moment."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from consent.models import Region
from consent.selectors import allowed_regions, consent_status
from consent.services.obtaining import withdraw_consent
from tests.factories import ConsentFormFactory, PhysioFactory, give_consent

pytestmark = pytest.mark.django_db

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
    RiskItem.objects.create(
        form=general_only, region=Region.GENERAL, title="Soreness", description="Soreness."
    )
    give_consent(patient, form=general_only)
    agree_everywhere(patient, [timezone.now()])
    assert sql_allows(patient, "neck", timezone.now())
