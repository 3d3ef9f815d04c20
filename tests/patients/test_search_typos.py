"""The README's promise: the search box tolerates typos. When no name holds the text as typed, the closest
names are found by trigram similarity (pg_trgm's word similarity, through the trigram index)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from patients.services import find_patients, search_patients
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
SEARCH = reverse("patients:list")
PICKER = reverse("appointments:patient_search")


@pytest.fixture
def harriet():
    return PatientFactory(given_name="Harriet", family_name="Quennell-Ortiz", date_of_birth=date(1961, 9, 14))


@pytest.fixture
def neighbours():
    """Names that share letters with Harriet Quennell-Ortiz without being her."""
    return [
        PatientFactory(given_name="Harriet", family_name="Smith"),
        PatientFactory(given_name="Harris", family_name="Quinn"),
        PatientFactory(given_name="Mariette", family_name="Quenneville"),
        PatientFactory(given_name="Henrietta", family_name="Ortega"),
        PatientFactory(given_name="Hari", family_name="Patel"),
    ]


def names(patients):
    return [f"{p.given_name} {p.family_name}" for p in patients]


@pytest.mark.parametrize("typed", ["quenel", "harriet quenel", "HARIET QUENEL", "quenell ortis"])
def test_a_typo_finds_harriet_quennell_ortiz_first(harriet, neighbours, typed):
    found = find_patients(typed)
    assert found.close_matches
    assert names(found.patients)[0] == "Harriet Quennell-Ortiz"


def test_a_typo_in_a_given_name_finds_the_patients_of_that_name_before_anyone_else(harriet, neighbours):
    found = find_patients("hariet")
    assert found.close_matches
    assert set(names(found.patients)[:2]) == {"Harriet Quennell-Ortiz", "Harriet Smith"}


def test_a_typo_in_one_word_of_two_finds_only_the_patient_both_words_are_close_to(harriet, neighbours):
    assert names(search_patients("harriet quenel")) == ["Harriet Quennell-Ortiz"]


def test_a_typo_leaves_out_names_that_only_share_a_few_letters(harriet, neighbours):
    found = names(search_patients("hariet"))
    assert not {"Harris Quinn", "Mariette Quenneville", "Henrietta Ortega"} & set(found)
    assert names(search_patients("quenel"))[:1] == ["Harriet Quennell-Ortiz"]


def test_a_random_string_finds_nobody(harriet, neighbours):
    found = find_patients("xqzvwk")
    assert found.patients == [] and not found.close_matches


def test_a_name_found_as_typed_is_not_mixed_with_close_matches(harriet, neighbours):
    # "harri" is in Harriet and Harris as typed: no fallback, so no Henrietta or Mariette.
    found = find_patients("harri")
    assert not found.close_matches
    assert set(names(found.patients)) == {"Harriet Quennell-Ortiz", "Harriet Smith", "Harris Quinn"}


def test_close_matches_leave_archived_patients_out_unless_asked_for(harriet, neighbours):
    from django.utils import timezone

    harriet.archived_at = timezone.now()
    harriet.save()
    assert "Harriet Quennell-Ortiz" not in names(search_patients("quenel"))
    assert names(search_patients("quenel", include_archived=True))[0] == "Harriet Quennell-Ortiz"


@pytest.mark.parametrize("typed", ["14 Sep 1962", "1962-09-14", "C000999", "604 555"])
def test_a_date_a_chart_number_or_a_phone_that_finds_nobody_is_not_guessed_at(harriet, neighbours, typed):
    assert find_patients(typed).patients == []


def test_short_words_are_not_guessed_at(harriet, neighbours):
    # Two letters are too few for trigrams to tell a typo from another name.
    assert find_patients("hx").patients == []


def test_the_fallback_is_answered_through_the_trigram_index(harriet, neighbours):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            assert search_patients("quenel")
        fuzzy = queries.captured_queries[-1]["sql"]
        assert "%>" in fuzzy
        cursor.execute("EXPLAIN " + fuzzy)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patient_name_trgm" in plan


def test_the_desk_sees_that_the_names_are_close_matches(client_for, harriet, neighbours):
    page = client_for(Role.FRONT_DESK).get(SEARCH, {"q": "hariet"}, headers={"HX-Request": "true"})
    text = page.content.decode()
    assert "Quennell-Ortiz" in text
    assert 'data-testid="close-matches"' in text
    assert "Quenneville" not in text


def test_the_booking_forms_patient_picker_tolerates_the_typo_too(client_for, harriet, neighbours):
    page = client_for(Role.FRONT_DESK).get(PICKER, {"patient_query": "harriet quenel"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Quennell-Ortiz" in text and "Smith" not in text


def test_a_typo_costs_one_more_query_whatever_the_number_of_close_matches(
    client_for, harriet, django_assert_max_num_queries
):
    client = client_for(Role.FRONT_DESK)
    # Eight: the six of a search (session, user, second-factor device, the search, the badges), then the
    # threshold for close matches and the close matches themselves.
    with django_assert_max_num_queries(8):
        client.get(SEARCH, {"q": "hariet"}, headers={"HX-Request": "true"})
    PatientFactory.create_batch(30, given_name="Harriet")
    with django_assert_max_num_queries(8):
        page = client.get(SEARCH, {"q": "hariet"}, headers={"HX-Request": "true"}).content.decode()
    assert page.count("Harriet") >= 25


def test_the_picker_never_ticks_a_close_match_for_the_desk(client_for, harriet):
    client = client_for(Role.FRONT_DESK)
    typo = client.get(PICKER, {"patient_query": "quenel"}).content.decode()
    assert "Quennell-Ortiz" in typo and 'data-testid="close-matches"' in typo
    assert "checked" not in typo, "a typo's single close match must be chosen, not assumed"
    exact = client.get(PICKER, {"patient_query": "quennell"}).content.decode()
    assert "checked" in exact and "close-matches" not in exact


def test_the_picker_says_why_an_ambiguous_date_finds_nobody(client_for, harriet):
    page = client_for(Role.FRONT_DESK).get(PICKER, {"patient_query": "03/04/1985"}).content.decode()
    assert 'data-testid="search-problem"' in page and "1985-04-03 or 1985-03-04" in page
    assert "Register a new patient" not in page
