import pytest

# 9698658215: digits 2-9 weighted 2,4,8,5,10,9,7,3 sum to 281; 281 mod 11 = 6; 11 - 6 = 5, the last digit.
VALID_PHN = "9698658215"
OTHER_VALID_PHN = "9123456798"


@pytest.fixture
def registration_data():
    """What the front desk types for a new patient: valid, so tests change one field at a time."""
    return {
        "given_name": "Zoë",
        "family_name": "Côté",
        "preferred_name": "",
        "date_of_birth": "1985-04-12",
        "sex": "female",
        "gender": "Woman",
        "phone": "604 555 0123",
        "phone_alternate": "",
        "email": "zoe.cote@example.ca",
        "address": "123 Main St\nVancouver, BC",
        "phn": VALID_PHN,
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "emergency_contact_relationship": "",
        "referral_source": "Family physician",
    }
