"""Patients' phone numbers are parsed when first read, not as each row is loaded, and shown as the clinic
dials them without parsing: the same numbers and the same text as django-phonenumber-field gives."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumber_field.phonenumber import PhoneNumber

from patients.models import Patient, StoredPhone, national_phone
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_a_loaded_patients_phones_are_phone_numbers_as_before(db):
    PatientFactory(phone="+16045550123", phone_alternate="+442079460958", emergency_contact_phone="")
    patient = Patient.objects.get()
    assert isinstance(patient.phone, PhoneNumber)
    assert patient.phone == PhoneNumber.from_string("+16045550123")
    assert patient.phone.as_national == "(604) 555-0123"
    assert patient.phone is patient.phone  # parsed once
    assert patient.phone_alternate.as_international == "+44 20 7946 0958"
    assert patient.emergency_contact_phone == ""


def test_nothing_is_parsed_until_a_number_is_read(db):
    PatientFactory(phone="+16045550123")
    patient = Patient.objects.get()
    assert isinstance(patient.__dict__["phone"], StoredPhone)
    assert patient.national_phone == "(604) 555-0123"
    assert isinstance(patient.__dict__["phone"], StoredPhone)


def test_a_patient_saved_unread_keeps_its_numbers(db):
    PatientFactory(phone="+16045550123", phone_alternate="+17785550142")
    patient = Patient.objects.get()
    patient.given_name = "Renamed"
    patient.save()
    patient.refresh_from_db()
    assert str(patient.phone) == "+16045550123" and str(patient.phone_alternate) == "+17785550142"


def test_a_number_assigned_in_code_is_parsed_at_once_with_the_clinics_region(db):
    patient = PatientFactory.build(phone="604 555 0123")
    assert isinstance(patient.phone, PhoneNumber)
    assert str(patient.phone) == "+16045550123"


def test_a_number_stored_as_typed_is_shown_as_the_library_shows_it(db):
    patient = PatientFactory(phone="")
    Patient.objects.filter(pk=patient.pk).update(phone="not a number")
    patient = Patient.objects.get()
    assert national_phone(patient) == PhoneNumber(raw_input="not a number").as_national
    assert str(patient.phone) == "not a number"


@settings(max_examples=200, deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
)
def test_the_national_text_is_what_phonenumbers_formats(area, exchange, line):
    stored = f"+1{area}{exchange}{line:04d}"
    patient = Patient()
    patient.__dict__["phone"] = StoredPhone(stored)
    assert national_phone(patient) == PhoneNumber.from_string(stored).as_national


@pytest.mark.parametrize("stored", ["+442079460958", "+33142685300", "+12505550188", ""])
def test_other_numbers_fall_back_to_the_library(stored):
    patient = Patient()
    patient.__dict__["phone"] = StoredPhone(stored) if stored else ""
    expected = PhoneNumber.from_string(stored).as_national if stored else ""
    assert national_phone(patient) == expected
