"""Dates of birth are typed and shown one way, YYYY-MM-DD (patients/dates.py; README "A short tour"). What
was plainly meant is taken; a date that could be two dates, a two-digit year or a day that does not exist
is refused with a message saying how to type it, on every form that takes one."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import Role
from patients.dates import parse_date_of_birth
from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
REGISTER = reverse("patients:register")
SEARCH = reverse("patients:list")
ADMIN_ADD = "/admin/patients/patient/add/"
ROOT = Path(__file__).resolve().parents[2]

REFUSED = [
    ("1985-02-31", "1985-02-31 is not a date: February 1985 has 28 days."),
    ("2023-02-29", "February 2023 has 28 days."),
    ("1985-13-07", "1985-13-07 has no month 13"),
    ("03/04/1985", "03/04/1985 could be 3 April 1985 or 4 March 1985: type the date of birth as YYYY-MM-DD"),
    ("85-03-07", "type the year in full"),
    ("07/03/85", "type the year in full"),
    ("31/31/1985", "31/31/1985 is not a date"),
    ("yesterday", "Type the date of birth as YYYY-MM-DD, for example 1985-03-07."),
    ("1985", "Type the date of birth as YYYY-MM-DD"),
]
TAKEN = [
    ("1985-03-07", date(1985, 3, 7)),
    ("1985-3-7", date(1985, 3, 7)),
    ("1985/03/07", date(1985, 3, 7)),
    (" 1985.03.07 ", date(1985, 3, 7)),
    ("19850307", date(1985, 3, 7)),
    ("7 Mar 1985", date(1985, 3, 7)),
    ("March 7, 1985", date(1985, 3, 7)),
    ("1985-MAR-07", date(1985, 3, 7)),
    ("25/03/1985", date(1985, 3, 25)),  # only 25 March is a date
    ("03/25/1985", date(1985, 3, 25)),
    ("05/05/1985", date(1985, 5, 5)),  # both readings are the same day
    ("2024-02-29", date(2024, 2, 29)),
]


def page_text(response):
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize("typed,expected", TAKEN)
def test_what_was_plainly_meant_is_taken(typed, expected):
    assert parse_date_of_birth(typed) == expected


@pytest.mark.parametrize("typed,message", REFUSED)
def test_registration_refuses_a_date_that_is_not_one_date_with_a_message(
    client_for, registration_data, typed, message
):
    response = client_for(Role.FRONT_DESK).post(REGISTER, {**registration_data, "date_of_birth": typed})
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "typed,expected", [("1985-3-7", date(1985, 3, 7)), ("25/03/1985", date(1985, 3, 25))]
)
def test_registration_saves_the_date_that_was_meant(client_for, registration_data, typed, expected):
    response = client_for(Role.FRONT_DESK).post(REGISTER, {**registration_data, "date_of_birth": typed})
    assert response.status_code == 302
    assert Patient.objects.get().date_of_birth == expected


def test_registration_refuses_a_date_of_birth_in_the_future(client_for, registration_data):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_for(Role.FRONT_DESK).post(
        REGISTER, {**registration_data, "date_of_birth": f"{tomorrow:%Y-%m-%d}"}
    )
    assert "The date of birth cannot be in the future." in page_text(response)
    assert not Patient.objects.exists()


def test_an_edit_refuses_an_ambiguous_date_and_keeps_the_one_on_file(client_for, zoe):
    data = {"given_name": "Zoë", "family_name": "Côté", "date_of_birth": "04/12/1985", "sex": "unknown"}
    response = client_for(Role.FRONT_DESK).post(reverse("patients:edit", args=[zoe.pk]), data)
    assert "04/12/1985 could be 4 December 1985 or 12 April 1985" in page_text(response)
    zoe.refresh_from_db()
    assert zoe.date_of_birth == date(1985, 4, 12)


def test_the_form_shows_a_plain_box_with_the_format_and_the_date_on_file_in_it(client_for, zoe):
    page = page_text(client_for(Role.FRONT_DESK).get(reverse("patients:edit", args=[zoe.pk])))
    box = re.search(r'<input[^>]*name="date_of_birth"[^>]*>', page).group(0)
    assert 'type="text"' in box and 'placeholder="YYYY-MM-DD"' in box and 'value="1985-04-12"' in box
    assert "YYYY-MM-DD, for example 1985-03-07." in page


@pytest.mark.parametrize(
    "typed,message",
    [
        ("03/04/1985", "could be 3 April 1985 or 4 March 1985"),
        ("85-03-07", "type the year in full"),
        ("07/03/85", "type the year in full"),  # en-CA's input formats would take "85-03-07" as 1985
    ],
)
def test_the_admin_refuses_the_same_dates_as_the_desk(client_for, registration_data, typed, message):
    data = {**registration_data, "date_of_birth": typed, "phn": ""}
    response = client_for(Role.ADMIN).post(ADMIN_ADD, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Patient.objects.exists()


def test_the_admin_lists_dates_of_birth_as_yyyy_mm_dd(client_for, zoe):
    page = page_text(client_for(Role.ADMIN).get("/admin/patients/patient/"))
    assert "1985-04-12" in page and "12 Apr 1985" not in page


@pytest.mark.parametrize(
    "typed,message",
    [
        ("12/04/1985", "12/04/1985 could be 12 April 1985 or 4 December 1985"),
        ("12/04/85", "type the year in full"),
        ("1985-02-30", "February 1985 has 28 days"),
    ],
)
def test_the_search_box_says_why_a_date_found_nobody(client_for, zoe, typed, message):
    response = client_for(Role.FRONT_DESK).get(SEARCH, {"q": typed}, headers={"HX-Request": "true"})
    page = page_text(response)
    assert message in page
    assert "Côté" not in page and "No patient matches" not in page


def test_the_search_box_takes_an_unambiguous_date_of_birth(client_for, zoe):
    PatientFactory(family_name="Tremblay", date_of_birth=date(1985, 12, 4))
    response = client_for(Role.FRONT_DESK).get(SEARCH, {"q": "1985-4-12"}, headers={"HX-Request": "true"})
    page = page_text(response)
    assert "Côté" in page and "Tremblay" not in page
    assert "1985-04-12" in page


def test_the_booking_forms_picker_shows_the_date_of_birth_the_same_way(client_for, zoe):
    picker = reverse("appointments:patient_search")
    response = client_for(Role.FRONT_DESK).get(picker, {"patient_query": "cote"})
    assert "born 1985-04-12" in page_text(response)


def test_every_template_shows_a_date_of_birth_as_yyyy_mm_dd():
    """Charts, lists, the booking picker and the PDFs all print `date_of_birth` through |date:"Y-m-d", or
    (the search results, once per row: patients/templates/patients/_results.html) as the date's own
    `isoformat`, which is YYYY-MM-DD by definition."""
    shown = 0
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        if ".venv" in template.parts:
            continue
        for match in re.finditer(r"\{\{[^}]*date_of_birth[^}]*\}\}", template.read_text()):
            if "date_of_birth|timesince" in match.group(0):
                continue  # the age, not the date
            shown += 1
            shown_as = match.group(0)
            assert 'date_of_birth|date:"Y-m-d"' in shown_as or "date_of_birth.isoformat }}" in shown_as, (
                f"{template}: {shown_as}"
            )
    assert shown >= 5


@given(text=st.text(max_size=40))
def test_any_text_is_a_date_or_a_message_never_an_error(text):
    try:
        assert isinstance(parse_date_of_birth(text), date)
    except ValidationError as refused:
        assert refused.messages[0]
