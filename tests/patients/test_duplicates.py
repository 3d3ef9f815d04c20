import pytest
from django.urls import reverse

from accounts.models import Role
from patients.models import Patient

pytestmark = pytest.mark.django_db
REGISTER = reverse("patients:register")


def test_the_same_name_and_birth_date_warns_and_shows_the_existing_record(client_for, registration_data, zoe):
    data = {**registration_data, "given_name": "ZOE", "family_name": "cote", "phn": ""}
    response = client_for(Role.FRONT_DESK).post(REGISTER, data)
    page = response.content.decode()
    assert "Possible duplicate" in page
    assert zoe.chart_number in page
    assert reverse("patients:chart", args=[zoe.pk]) in page
    assert "Register anyway" in page
    assert Patient.objects.count() == 1


def test_register_anyway_saves_the_second_patient(client_for, registration_data, zoe):
    data = {**registration_data, "phn": "", "register_anyway": "on"}
    response = client_for(Role.FRONT_DESK).post(REGISTER, data)
    assert response.status_code == 302
    assert Patient.objects.count() == 2


def test_a_different_birth_date_is_no_duplicate(client_for, registration_data, zoe):
    data = {**registration_data, "phn": "", "date_of_birth": "1985-04-13"}
    response = client_for(Role.FRONT_DESK).post(REGISTER, data)
    assert response.status_code == 302
    assert Patient.objects.count() == 2
