"""A chart number, a date of birth and the words of a name are looked up by fixed SQL (patients/services.py,
find_patients), not by a queryset Django compiles on every keystroke. The rule is still search_condition()'s:
these tests run the fixed SQL and search_condition's queryset on the same patients and hold them to the same
patients in the same order, archived or not, at every limit; and each statement to the index that serves it.
"""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.dates import looks_like_a_date
from patients.models import Patient
from patients.services import (
    CHART_NUMBER,
    PHONE_LIKE,
    SEARCH_LIMIT,
    _close_matches,
    find_patients,
    search_condition,
    search_patients,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    """Names with accents, a preferred name, LIKE's own wildcards, shared birthdays, and archived patients."""
    born = date(1979, 2, 14)
    patients = [
        PatientFactory(given_name="Zoë", family_name="Côté", date_of_birth=born, phone="+16045550188"),
        PatientFactory(given_name="Zoe", family_name="Cote", date_of_birth=born),
        PatientFactory(given_name="Marie-Ève", family_name="Campbell", date_of_birth=date(1990, 7, 3)),
        PatientFactory(given_name="Marie", family_name="Campbell-Ève", date_of_birth=date(1990, 7, 3)),
        PatientFactory(given_name="Eve", family_name="Campeau", preferred_name="Evie"),
        PatientFactory(given_name="Robert", family_name="Camp", preferred_name="Bob"),
        PatientFactory(given_name="Ana", family_name="100% Pure", date_of_birth=born),
        PatientFactory(given_name="Ana", family_name="1000 Pure"),
        PatientFactory(given_name="Li_Na", family_name="Wong"),
        PatientFactory(given_name="Lina", family_name="Wong"),
        PatientFactory(given_name="Back\\Slash", family_name="Wong"),
        PatientFactory(given_name="Nguyễn", family_name="Trần", date_of_birth=born),
        PatientFactory(given_name="Øystein", family_name="Ødegård"),
        PatientFactory(given_name="Émile", family_name="campbell", archived_at=timezone.now()),
        PatientFactory(given_name="Zoé", family_name="côté", date_of_birth=born, archived_at=timezone.now()),
    ]
    return patients


TYPED = [
    # chart numbers are added per test (they come from the database's sequence)
    "1979-02-14",
    "14 Feb 1979",
    "1990/07/03",
    "2001-01-01",
    "cote",
    "CÔTÉ",
    "zoe cote",
    "côté zoë",
    "camp",
    "CAMP",
    "marie-eve campbell",
    "marie ève",
    "ève",
    "evie",
    "bob camp",
    "e",
    "100%",
    "100% pure",
    "%",
    "_",
    "li_na",
    "li%na",
    "back\\slash",
    "\\",
    "nguyen tran",
    "oystein",
    "ødegård",
    "wong lina",
    "a b c d e",
]


def by_search_condition(text, *, include_archived, limit):
    """What find_patients read before the fixed SQL: the rule as search_condition writes it."""
    condition = search_condition(text)
    if condition is None:
        return []
    found = Patient.objects.filter(condition)
    if not include_archived:
        found = found.filter(archived_at__isnull=True)
    found = found.order_by(Lower("family_name"), Lower("given_name"), "id")
    found = list(found[:limit] if limit else found)
    is_a_name = not (looks_like_a_date(text) or CHART_NUMBER.match(text) or PHONE_LIKE.match(text))
    if found or not is_a_name:
        return found
    # No name holds the words as typed: the typo fallback, which is still a queryset (typos are rare).
    return _close_matches(text, include_archived=include_archived, limit=limit)


def typed_texts(registry):
    charts = [p.chart_number for p in registry[:3]]
    return [*TYPED, *charts, charts[0].lower(), f"c{int(registry[1].chart_number[1:])}", "C999999"]


@pytest.mark.parametrize("include_archived", [False, True])
@pytest.mark.parametrize("limit", [SEARCH_LIMIT, 2, None])
def test_the_fixed_sql_finds_what_search_condition_finds_in_the_same_order(registry, include_archived, limit):
    for text in typed_texts(registry):
        expected = by_search_condition(text, include_archived=include_archived, limit=limit)
        found = search_patients(text, include_archived=include_archived, limit=limit)
        assert [p.pk for p in found] == [p.pk for p in expected], text


def test_the_sample_texts_find_something_so_the_comparison_means_something(registry):
    texts = typed_texts(registry)
    assert sum(bool(search_patients(text, include_archived=True)) for text in texts) >= len(texts) - 3


@pytest.mark.parametrize("kind", ["chart", "born", "name"])
def test_archived_patients_are_left_out_unless_asked_for_by_each_kind(registry, kind):
    archived = registry[-1]
    typed = {"chart": archived.chart_number, "born": "1979-02-14", "name": "zoé côté"}[kind]
    assert archived not in search_patients(typed)
    assert archived in search_patients(typed, include_archived=True)
    assert all(p.archived_at is None for p in search_patients(typed))


def test_names_come_in_name_order_then_by_id_and_stop_at_the_limit():
    made = [PatientFactory(given_name=given, family_name="Tremblay") for given in "edcbaEDCBA" * 3]
    expected = sorted(made, key=lambda p: (p.family_name.lower(), p.given_name.lower(), p.pk))
    assert [p.pk for p in search_patients("tremblay")] == [p.pk for p in expected[:SEARCH_LIMIT]]
    assert [p.pk for p in search_patients("tremblay", limit=10)] == [p.pk for p in expected[:10]]
    assert [p.pk for p in search_patients("tremblay", limit=None)] == [p.pk for p in expected]


def test_a_date_of_birth_stops_at_the_limit_in_name_order():
    made = [PatientFactory(family_name=f"Born{n:02d}", date_of_birth=date(1950, 5, 5)) for n in range(30)]
    assert [p.pk for p in search_patients("1950-05-05")] == [p.pk for p in made[:SEARCH_LIMIT]]
    assert len(search_patients("1950-05-05", limit=None)) == 30


def test_a_patient_read_by_fixed_sql_is_the_patient_the_orm_reads(registry):
    zoe = registry[0]
    (found,) = search_patients(zoe.chart_number)
    stored = Patient.objects.get(pk=zoe.pk)
    for field in Patient._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert found.national_phone == "(604) 555-0188" and found.phone.as_e164 == "+16045550188"
    assert found.phone_alternate == stored.phone_alternate
    assert found._state.adding is False and found._state.db == "default"
    assert found == stored and str(found) == str(stored)


def as_built(patient):
    """A patient object's attributes in the order they were set, each with its type, and its state."""
    values = [
        (name, value, type(value), getattr(value, "tzinfo", None))
        for name, value in vars(patient).items()
        if name != "_state"
    ]
    return values, patient._state.adding, patient._state.db, dict(patient._state.fields_cache)


@pytest.mark.parametrize("typed", ["chart", "1979-02-14", "zoe cote"])
def test_each_patient_is_built_attribute_for_attribute_as_the_orm_builds_it(registry, front_desk, typed):
    """_patients_from_sql() builds patients without Model.__init__: the same attributes, values, types
    (the phones still unparsed text, an empty one ""; the moments in the same time zone), order and state
    as the ORM's objects, for patients with and without phones, with and without who registered them,
    archived or not."""
    zoe, zoe_plain = registry[0], registry[1]
    Patient.objects.filter(pk=zoe.pk).update(created_by=front_desk, phone_alternate="+16045550177")
    Patient.objects.filter(pk=zoe_plain.pk).update(
        phone="",
        emergency_contact_phone="+442071838750",
        # Moments to the microsecond, one before 1970 and one in a daylight saving change in Vancouver.
        created_at=datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        archived_at=datetime(2026, 3, 8, 10, 30, 15, 123456, tzinfo=UTC),
    )
    text = zoe.chart_number if typed == "chart" else typed
    found = search_patients(text, include_archived=True, limit=None)
    assert found
    stored = Patient.objects.in_bulk([p.pk for p in found])
    for patient in found:
        assert as_built(patient) == as_built(stored[patient.pk])
        assert patient.phone == stored[patient.pk].phone  # parsed on first read, alike
        assert as_built(patient) == as_built(stored[patient.pk])
    by_pk = {p.pk: p for p in found}
    if zoe_plain.pk in by_pk:
        assert by_pk[zoe_plain.pk].archived_at == datetime(2026, 3, 8, 10, 30, 15, 123456, tzinfo=UTC)
        assert by_pk[zoe_plain.pk].created_at.microsecond == 999999
    if zoe.pk in by_pk:
        assert by_pk[zoe.pk].created_by == front_desk
        assert by_pk[zoe.pk].phone_alternate.as_e164 == "+16045550177"


def test_patients_are_built_by_from_db_while_something_listens_for_post_init(registry):
    from django.db.models.signals import post_init

    built = []

    def listener(sender, instance, **kwargs):
        built.append(instance)

    post_init.connect(listener, sender=Patient)
    try:
        found = search_patients("1979-02-14", include_archived=True)
    finally:
        post_init.disconnect(listener, sender=Patient)
    assert found and built == found
    stored = Patient.objects.in_bulk([p.pk for p in found])
    assert [as_built(p) for p in found] == [as_built(stored[p.pk]) for p in found]


def test_patients_are_built_by_from_db_should_patient_override_how_it_is_built(registry, monkeypatch):
    from patients import services

    assert services._PATIENT_INIT_IS_DJANGOS  # Patient overrides neither: the quicker way is the one taken
    django_from_db = Patient.from_db.__func__
    called = []

    def from_db(cls, db, field_names, values):
        called.append(values[0])
        return django_from_db(cls, db, field_names, values)

    monkeypatch.setattr(Patient, "from_db", classmethod(from_db))
    monkeypatch.setattr(services, "_PATIENT_INIT_IS_DJANGOS", False)
    found = search_patients("1979-02-14", include_archived=True)
    assert found and called == [p.pk for p in found]


@pytest.mark.parametrize(
    "typed,index",
    [
        ("chart", "chart_number"),
        # Either index that starts with the date: on a few rows the planner may take the folded names' and
        # sort; test_search_by_date_of_birth.py holds the statement to the ordered one.
        ("1979-02-14", "patient_dob"),
        ("cote", "patients_name_posting_pkey"),
        ("zoe cote", "patient_name_words_idx"),
    ],
)
def test_each_fixed_statement_is_served_by_its_index(registry, typed, index):
    text = registry[0].chart_number if typed == "chart" else typed
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            assert search_patients(text)
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


@pytest.mark.parametrize("typed", ["chart", "1979-02-14", "cote", "marie-eve campbell"])
def test_each_kind_costs_one_query(registry, typed, django_assert_num_queries):
    text = registry[0].chart_number if typed == "chart" else typed
    with django_assert_num_queries(1):
        assert find_patients(text).patients
