"""The screening names where a site item is (issue 11, part 3), asks the pneumothorax risk factors, and
an older screening shows those as "not asked", never as a silent "no"."""

import pytest
from django.urls import reverse

from accounts.models import Role
from patients.models import SCREENING_ITEMS, Screening
from tests.factories import ScreeningFactory

pytestmark = pytest.mark.django_db


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
