"""Values as Jane and Cliniko write them (dates, times, phones, yes/no), read strictly: a value that could
mean two things is refused with the reason, never guessed."""

import calendar
import re
from datetime import date, datetime, time

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from patients.services import phone_is_valid

NANP_REGIONS = {"CA", "US"}
MONTHS = {name[:3].lower(): number for number, name in enumerate(calendar.month_name) if name}
DATE_ORDERS = {
    "auto": "Work it out (refuse dates like 03/04/1985 that could be either)",
    "day_first": "Day first (31/12/1985, as in Canada and Australia)",
    "month_first": "Month first (12/31/1985, as in the United States)",
}
TRUE_WORDS = {"true", "yes", "y", "1", "x", "t"}
FALSE_WORDS = {"false", "no", "n", "0", "f", ""}


class Unreadable(ValueError):
    """A value that cannot be read; str() is the reason, for the administrator."""


def _month(word):
    number = MONTHS.get(word[:3].lower())
    if number is None:
        raise Unreadable(f"\u201c{word}\u201d is not a month")
    return number


def _make(year, month, day, text):
    try:
        return date(year, month, day)
    except ValueError:
        raise Unreadable(f"\u201c{text}\u201d is not a real date") from None


def parse_date(text, order="auto"):
    """A date written as 1985-03-14, 1985/03/14, 14/03/1985 or 03/14/1985 (by `order`), 14 Mar 1985,
    14-Mar-1985 or Mar 14, 1985 (a time after it is ignored). Refuses two-digit years and, with order
    "auto", a day and month that could be either."""
    value = text.strip()
    if match := re.fullmatch(
        r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ][\d:.]+(?:\s*[AaPp][Mm])?)?(?:Z|[+-]\d{2}:?\d{2})?", value
    ):
        return _make(int(match[1]), int(match[2]), int(match[3]), value)
    if match := re.fullmatch(
        r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:\s+[\d:.]+(?:\s*[AaPp][Mm])?)?", value
    ):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if order == "day_first" or (order == "auto" and first > 12):
            return _make(year, second, first, value)
        if order == "month_first" or (order == "auto" and second > 12):
            return _make(year, first, second, value)
        if first == second:
            return _make(year, first, first, value)
        raise Unreadable(
            f"\u201c{value}\u201d could be {first} {calendar.month_name[second]} or "
            f"{calendar.month_name[first]} {second}: choose the date order"
        )
    if re.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}", value):
        raise Unreadable(f"\u201c{value}\u201d has a two-digit year")
    if match := re.fullmatch(r"(\d{1,2})[ \-]([A-Za-z]{3,9})\.?,?[ \-](\d{4})", value):
        return _make(int(match[3]), _month(match[2]), int(match[1]), value)
    if match := re.fullmatch(r"([A-Za-z]{3,9})\.? (\d{1,2}),? (\d{4})", value):
        return _make(int(match[3]), _month(match[1]), int(match[2]), value)
    raise Unreadable(f"\u201c{value}\u201d is not a date")


def parse_time(text):
    """A time of day: 9:00, 09:00:00, 9:00 AM, 9:00pm, 21:30."""
    value = text.strip().lower().replace(".", "")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?", value)
    if not match:
        raise Unreadable(f"\u201c{text}\u201d is not a time of day")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise Unreadable(f"\u201c{text}\u201d is not a time of day")
        hour = hour % 12 + (12 if match[4] == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Unreadable(f"\u201c{text}\u201d is not a time of day")
    return time(hour, minute, second)


def aware(moment):
    """A naive time is clinic time (CLINIC_TIME_ZONE), as both systems export their local times."""
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_datetime(text, order="auto"):
    """A date and time: ISO 8601 (with or without an offset), or any date parse_date reads followed by a
    time parse_time reads."""
    value = text.strip()
    try:
        return aware(datetime.fromisoformat(value))
    except ValueError:
        pass
    match = re.fullmatch(r"(.+?)[ T,]+(\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?)", value)
    if not match:
        raise Unreadable(f"\u201c{value}\u201d is not a date and time")
    return aware(datetime.combine(parse_date(match[1], order), parse_time(match[2])))


def parse_flag(text):
    """Yes/no as exports write it: true/false, yes/no, 1/0, x; a date or time (Cliniko's "Cancelled At")
    counts as yes."""
    value = text.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    if re.search(r"\d", value):
        return True
    raise Unreadable(f"\u201c{text}\u201d is neither yes nor no")


def parse_phone(text):
    """The number (a PhoneNumber, ready for a PhoneNumberField), or None when it is no valid phone number
    (in PHONE_REGION when it has no country code). Ten digits in a North American region are read without
    phonenumbers' parser, which costs more than all the rest of a row; the validity check is the model's
    own (phone_is_valid)."""
    region = settings.PHONENUMBER_DEFAULT_REGION
    digits = re.sub(r"[\s().\-]", "", text)
    if region in NANP_REGIONS and re.fullmatch(r"(?:\+?1)?[2-9]\d{9}", digits):
        number = PhoneNumber(country_code=1, national_number=int(digits[-10:]))
    else:
        try:
            number = PhoneNumber.from_string(text, region)
        except phonenumbers.NumberParseException:
            return None
    return number if phone_is_valid(number) else None


_email = EmailValidator()


def valid_email(text):
    try:
        _email(text)
    except ValidationError:
        return False
    return len(text) <= 254


def parse_sex(text):
    value = re.sub(r"[^a-z]", "", text.lower())
    if value in ("f", "female", "woman"):
        return "female"
    if value in ("m", "male", "man"):
        return "male"
    if value == "intersex":
        return "intersex"
    return "unknown"


def phn_digits(text):
    """A PHN as typed on a card or in a spreadsheet (spaces, dashes, a lost leading zero never applies: BC
    PHNs start with 9) reduced to its characters without separators."""
    return re.sub(r"[\s\-.]", "", text)
