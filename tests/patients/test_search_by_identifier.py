"""A whole identifier typed in the search box (chart number, PHN, phone, date of birth) is looked up by
equality on a b-tree, never by the trigram index: at 1M patients the trigram index reads thousands of
rows for ten digits that share their trigrams with a good part of the table."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.services import find_patients, search_patients, whole_phone_digits
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def amara():
    return PatientFactory(
        given_name="Amara",
        family_name="Osei",
        date_of_birth=date(1979, 2, 14),
        phone="+16045550188",
        phone_alternate="+17785550142",
        phn="9698658215",
    )


@pytest.fixture
def others():
    # Numbers sharing most of Amara's digits: found by "the last digits", never by her whole number.
    return [
        PatientFactory(given_name="Ben", family_name="Okoro", phone="+16045550189"),
        PatientFactory(given_name="Cleo", family_name="Osei", phone="+12505550188"),
    ]


def plan_of(text):
    """The search's patients and the plan PostgreSQL chose for its query, with sequential scans off (the
    test table is small enough that a scan would win otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            found = search_patients(text)
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return found, plan


@pytest.mark.parametrize(
    "typed",
    ["(604) 555-0188", "604-555-0188", "604 555 0188", "6045550188", "1 604 555 0188", "+1 604 555 0188"],
)
def test_a_whole_phone_number_finds_its_patient_however_it_is_typed(amara, others, typed):
    assert search_patients(typed) == [amara]


def test_the_other_phone_finds_the_patient_too(amara, others):
    assert search_patients("(778) 555-0142") == [amara]


def test_a_whole_phone_number_is_looked_up_by_equality_not_by_trigrams(amara, others):
    found, plan = plan_of("(604) 555-0188")
    assert found == [amara]
    assert "patient_phone_number_digits_idx" in plan
    assert "patient_phone_alternate_number_digits_idx" in plan
    assert "patient_phone_trgm" not in plan


def test_a_phn_is_looked_up_by_equality(amara, others):
    found, plan = plan_of("9698658215")
    assert found == [amara]
    assert "patient_phn_unique" in plan
    assert "patient_phone_trgm" not in plan


def test_a_chart_number_is_looked_up_by_equality(amara, others):
    found, plan = plan_of(amara.chart_number)
    assert found == [amara]
    assert "chart_number" in plan and "trgm" not in plan


def test_a_date_of_birth_is_looked_up_by_equality(amara, others):
    found, plan = plan_of("1979-02-14")
    assert found == [amara]
    assert "patient_dob" in plan and "trgm" not in plan


def test_the_last_digits_still_find_every_number_that_ends_with_them(amara, others):
    assert {p.given_name for p in search_patients("0188")} == {"Amara", "Cleo"}
    assert {p.given_name for p in search_patients("555-018")} == {"Amara", "Ben", "Cleo"}
    _, plan = plan_of("0188")
    assert "patient_phone_trgm" in plan


def test_a_whole_number_finds_one_stored_without_its_country_code(db):
    # Rows written by raw SQL or an old import may hold the number as typed; the trigger keeps the rest.
    patient = PatientFactory(given_name="Dara", family_name="Lin", phone="")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patient SET phone = '604-555-0177' WHERE id = %s", [patient.pk])
    assert search_patients("(604) 555-0177") == [patient]


def test_an_archived_patient_is_found_by_phone_only_when_asked_for(amara, others):
    from django.utils import timezone

    amara.archived_at = timezone.now()
    amara.save()
    assert find_patients("604 555 0188").patients == []
    assert find_patients("604 555 0188", include_archived=True).patients == [amara]


@pytest.mark.parametrize(
    "typed,digits",
    [
        ("(604) 555-0188", ("16045550188", "6045550188")),
        ("1-604-555-0188", ("16045550188", "6045550188")),
        ("+44 20 7946 0958", ("442079460958", "2079460958")),
        ("604 555", ()),
        ("0188", ()),
        ("12345678901234567890", ()),
    ],
)
def test_what_counts_as_a_whole_phone_number(typed, digits):
    assert set(whole_phone_digits(typed)) >= set(digits)
    assert bool(whole_phone_digits(typed)) == bool(digits)


def test_a_whole_number_costs_one_query(amara, others, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert search_patients("(604) 555-0188") == [amara]
