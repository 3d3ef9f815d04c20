import pytest
from django.core.exceptions import ValidationError

from patients.validators import phn_check_digit, validate_phn
from tests.patients.conftest import OTHER_VALID_PHN, VALID_PHN


def test_the_published_example_phn_is_valid():
    validate_phn(VALID_PHN)
    validate_phn(OTHER_VALID_PHN)


def test_the_check_digit_follows_the_mod_11_weights():
    # 9123456798: 1*2 + 2*4 + 3*8 + 4*5 + 5*10 + 6*9 + 7*7 + 9*3 = 234; 234 mod 11 = 3; 11 - 3 = 8.
    assert phn_check_digit("912345679") == 8
    assert phn_check_digit("969865821") == 5


def test_a_remainder_of_zero_gives_check_digit_zero():
    # 912345678: the weighted sum is 231 = 21 * 11, so 11 - 0 = 11, written 0.
    assert phn_check_digit("912345678") == 0
    validate_phn("9123456780")


def test_a_remainder_of_one_leaves_no_valid_check_digit():
    # The first nine digits for which no check digit exists are those leaving a remainder of 1.
    prefix = next(f"9{n:08d}" for n in range(10**6) if phn_check_digit(f"9{n:08d}") is None)
    total = sum(int(d) * w for d, w in zip(prefix[1:], (2, 4, 8, 5, 10, 9, 7, 3), strict=True))
    assert total % 11 == 1


@pytest.mark.parametrize(
    "phn,message",
    [
        ("9698658216", "check digit"),
        ("8698658215", "starts with 9"),
        ("969865821", "exactly 10 digits"),
        ("96986582150", "exactly 10 digits"),
        ("96986582a5", "exactly 10 digits"),
        ("９６９８６５８２１５", "exactly 10 digits"),
    ],
)
def test_a_bad_phn_is_refused_with_a_reason(phn, message):
    with pytest.raises(ValidationError) as error:
        validate_phn(phn)
    assert message in error.value.messages[0]


def test_nine_digits_that_admit_no_check_digit_never_validate():
    # A prefix whose remainder is 1 would need the check digit 10: every completion of it is refused.
    prefix = next(f"9{n:08d}" for n in range(10**6) if phn_check_digit(f"9{n:08d}") is None)
    for last in "0123456789":
        with pytest.raises(ValidationError):
            validate_phn(prefix + last)
