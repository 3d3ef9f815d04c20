"""Validators for patient fields, used by the model (so the admin and imports check them too) and forms."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone

# BC Personal Health Number: 10 digits, the first is 9, the last a MOD 11 check digit over digits 2 to 9
# with these weights (BC Ministry of Health, "PHN check digit routine"). 11 - remainder is the check digit;
# a remainder of 0 gives 0 (as python-stdnum's and stdnum-js's BC PHN validators read the rule), and a
# remainder of 1 would need "10", so no PHN is issued with those first nine digits.
PHN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)
OLDEST_AGE_YEARS = 120


def phn_check_digit(first_nine):
    """The check digit for the first nine digits of a PHN, or None when no check digit can exist."""
    total = sum(int(d) * w % 11 for d, w in zip(first_nine[1:9], PHN_WEIGHTS, strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def validate_phn(value):
    if value in (None, ""):
        return
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        raise ValidationError("A BC Personal Health Number is exactly 10 digits.", code="phn_format")
    if value[0] != "9":
        raise ValidationError("A BC Personal Health Number starts with 9.", code="phn_format")
    if phn_check_digit(value[:9]) != int(value[9]):
        raise ValidationError(
            "This is not a valid BC Personal Health Number (the check digit does not match): "
            "please check it against the patient's card.",
            code="phn_check_digit",
        )


def validate_date_of_birth(value):
    if value is None:
        return
    today = timezone.localdate()
    if value > today:
        raise ValidationError("The date of birth cannot be in the future.", code="dob_future")
    try:
        oldest = today.replace(year=today.year - OLDEST_AGE_YEARS)
    except ValueError:  # 29 February
        oldest = date(today.year - OLDEST_AGE_YEARS, 2, 28)
    if value < oldest:
        raise ValidationError(
            f"The date of birth makes the patient older than {OLDEST_AGE_YEARS}: please check the year.",
            code="dob_too_old",
        )
