from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import ClinicianProfileFactory

pytestmark = pytest.mark.django_db


def test_a_current_authorisation_allows_needling():
    profile = ClinicianProfileFactory(
        needling_authorised_on=date(2024, 1, 1), needling_authorisation_expires=None
    )
    assert profile.needling_authorised(on=date(2026, 11, 24))


def test_no_authorisation_on_file_refuses():
    assert not ClinicianProfileFactory(needling_authorised_on=None).needling_authorised(on=date(2026, 1, 1))


def test_an_expired_authorisation_refuses_from_the_day_after_expiry():
    profile = ClinicianProfileFactory(
        needling_authorised_on=date(2024, 1, 1), needling_authorisation_expires=date(2026, 3, 31)
    )
    assert profile.needling_authorised(on=date(2026, 3, 31))
    assert not profile.needling_authorised(on=date(2026, 4, 1))


def test_an_authorisation_granted_in_the_future_is_not_yet_current():
    profile = ClinicianProfileFactory(needling_authorised_on=date(2027, 1, 1))
    assert not profile.needling_authorised(on=date(2026, 12, 31))


def test_a_deactivated_clinician_is_not_authorised():
    profile = ClinicianProfileFactory(needling_authorised_on=date(2020, 1, 1))
    profile.user.is_active = False
    assert not profile.needling_authorised(on=date(2026, 1, 1))


def test_an_expiry_before_the_grant_is_refused_by_the_form_layer_and_the_database():
    profile = ClinicianProfileFactory.build(
        needling_authorised_on=date(2026, 5, 1), needling_authorisation_expires=date(2026, 4, 1)
    )
    with pytest.raises(ValidationError, match="cannot come before"):
        profile.clean()
    profile = ClinicianProfileFactory()
    profile.needling_authorised_on = date(2026, 5, 1)
    profile.needling_authorisation_expires = date(2026, 4, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        profile.save()


def test_the_admin_refuses_an_expiry_before_the_grant(client, administrator):
    profile = ClinicianProfileFactory()
    client.force_login(administrator)
    response = client.post(
        f"/admin/accounts/clinicianprofile/{profile.pk}/change/",
        {
            "user": profile.user.pk,
            "registration_number": profile.registration_number,
            "regulator": profile.regulator,
            "needling_authorised_on": "2026-05-01",
            "needling_authorisation_expires": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert "cannot come before" in response.content.decode()
    profile.refresh_from_db()
    assert profile.needling_authorisation_expires is None


def test_the_physiotherapist_home_says_when_no_authorisation_is_on_file(client):
    profile = ClinicianProfileFactory(needling_authorised_on=None)
    client.force_login(profile.user)
    assert "No current needling authorisation is on file" in client.get("/").content.decode()
