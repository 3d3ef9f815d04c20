"""Each row of the search results shows that patient: the chart link, chart number, date of birth, phone as
dialled and the patient's own badges (each different set of badges is rendered once per page)."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from tests.factories import PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db


def rows_of(client, text, **extra):
    page = client.get(reverse("patients:list"), {"q": text, **extra}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    return [row for row in re.findall(r"<tr>(.*?)</tr>", page.content.decode(), re.S) if "<td>" in row]


def test_each_row_shows_its_own_patient_and_badges(client_for):
    screened = PatientFactory(
        given_name="Ines", family_name="Rowan", date_of_birth=date(1981, 6, 9), phone="+16045550101"
    )
    ScreeningFactory(patient=screened)
    unscreened = PatientFactory(given_name="Ivo", family_name="Rowan", phone="")
    archived = PatientFactory(given_name="Ike", family_name="Rowan", archived_at=timezone.now())
    rows = rows_of(client_for(Role.FRONT_DESK), "rowan", archived="1")
    assert len(rows) == 3
    by_name = {re.search(r"Rowan, (\w+)", row).group(1): row for row in rows}
    ines, ivo, ike = by_name["Ines"], by_name["Ivo"], by_name["Ike"]
    assert f'href="{reverse("patients:chart", args=[screened.pk])}"' in ines
    assert f'href="{reverse("patients:chart", args=[unscreened.pk])}"' in ivo
    assert screened.chart_number in ines and "1981-06-09" in ines and "(604) 555-0101" in ines
    assert "Screening due" not in ines and "Screening due (none on file)" in ivo
    assert "Archived" in ike and "Archived" not in ivo and "Archived" not in ines
    assert archived.chart_number in ike
