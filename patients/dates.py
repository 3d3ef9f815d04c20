"""Dates of birth: one format, YYYY-MM-DD, typed and shown the same way on every form, page, PDF and export.

The clinic is in British Columbia, where staff meet day-first dates (health cards, Canadian forms) and
month-first ones (US software, referrals from across the border) alike: 03/04/1985 is 3 April to one
and 4 March to the other, and a wrong date of birth is how two patients get mixed up. Year first is
read one way only. What was plainly meant is taken (1985-3-7, 1985/03/07, 19850307, 7 Mar 1985, and a
day-month-year date that only one reading makes real, 25/03/1985); anything that could be two dates,
or a two-digit year, is refused with a message saying how to type it.
"""

import calendar
import re
from datetime import date

from django.core.exceptions import ValidationError

# The `date` template filter's format, and what the form's box shows as its placeholder.
DATE_OF_BIRTH_FORMAT = "Y-m-d"
TYPED_AS = "YYYY-MM-DD"
EXAMPLE = "1985-03-07"

YEAR_FIRST = re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})$")
COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
YEAR_LAST = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$")
TWO_DIGIT_YEAR = re.compile(r"^\d{1,2}[-/. ]\d{1,2}[-/. ]\d{1,2}$")
MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9


def _spelled(day, month, year):
    return f"{int(day)} {calendar.month_name[month]} {year}"


def _real_date(year, month, day, typed):
    """The date, or a ValidationError saying why those numbers are not one."""
    if year < 1:
        raise ValidationError(
            f"{typed} is not a date: type the date of birth as {TYPED_AS}, for example {EXAMPLE}.",
            code="dob_invalid",
        )
    if not 1 <= month <= 12:
        raise ValidationError(
            f"{typed} has no month {month}: type the date of birth as {TYPED_AS}, for example {EXAMPLE}.",
            code="dob_invalid",
        )
    try:
        return date(year, month, day)
    except ValueError:
        last = calendar.monthrange(year, month)[1]
        raise ValidationError(
            f"{typed} is not a date: {calendar.month_name[month]} {year} has {last} days.",
            code="dob_invalid",
        ) from None


def _month_named(text):
    """A date written with its month's name (7 Mar 1985, March 7, 1985, 1985-MAR-07), or None."""
    words = re.findall(r"[^\W\d_]+|\d+", text)
    names = [word for word in words if not word.isdigit()]
    numbers = [word for word in words if word.isdigit()]
    if len(names) != 1 or len(numbers) != 2 or names[0].lower() not in MONTHS:
        return None
    years = [n for n in numbers if len(n) == 4]
    days = [n for n in numbers if len(n) <= 2]
    if len(years) != 1 or len(days) != 1:
        return None
    return int(years[0]), MONTHS[names[0].lower()], int(days[0])


def parse_date_of_birth(text):
    """The date a person typed for a date of birth. Refuses (ValidationError, with a message saying how to
    type it) a two-digit year, a day and month that could be either, a date that does not exist, and
    anything else that is not a date."""
    typed = " ".join(str(text).split())
    if match := YEAR_FIRST.match(typed) or COMPACT.match(typed):
        year, month, day = (int(part) for part in match.groups())
        return _real_date(year, month, day, typed)
    if match := YEAR_LAST.match(typed):
        first, second, year = (int(part) for part in match.groups())
        readings = (
            set()
            if year < 1
            else {
                (year, month, day)
                for day, month in ((first, second), (second, first))
                if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            }
        )
        if len(readings) == 1:
            return date(*readings.pop())
        if not readings:
            raise ValidationError(
                f"{typed} is not a date: type the date of birth as {TYPED_AS}, for example {EXAMPLE}.",
                code="dob_invalid",
            )
        day_first, month_first = date(year, second, first), date(year, first, second)
        raise ValidationError(
            f"{typed} could be {_spelled(first, second, year)} or {_spelled(second, first, year)}: type "
            f"the date of birth as {TYPED_AS} ({day_first.isoformat()} or {month_first.isoformat()}).",
            code="dob_ambiguous",
        )
    if TWO_DIGIT_YEAR.match(typed):
        raise ValidationError(
            f"{typed}: type the year in full, as {TYPED_AS} (for example {EXAMPLE}).",
            code="dob_two_digit_year",
        )
    if named := _month_named(typed):
        return _real_date(*named, typed)
    raise ValidationError(f"Type the date of birth as {TYPED_AS}, for example {EXAMPLE}.", code="dob_invalid")


def looks_like_a_date(text):
    """True when the text is written as a date (digits in three groups, or with a month's name), so
    that the search box reads it as a date of birth rather than as a name or a phone number."""
    typed = " ".join(text.split())
    return bool(
        YEAR_FIRST.match(typed)
        or YEAR_LAST.match(typed)
        or TWO_DIGIT_YEAR.match(typed)
        or _month_named(typed)
    )
