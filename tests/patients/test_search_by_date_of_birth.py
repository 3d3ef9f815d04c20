"""A date of birth typed in the search box finds the patients born that day, current ones unless archived
ones are asked for, in name order (family name, then given name, ignoring case, then registration order),
up to the box's limit. The statement reads them off an index kept in that order (migration 0010), and the
patients are built without Model.__init__ (patients/services.py, _patients_from_sql): what the desk sees
must be what it saw when each was built by Model.from_db()."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from patients.models import Patient
from patients.services import SEARCH_LIMIT, find_patients, search_patients
from tests.factories import FrontDeskFactory, PatientFactory, ScreeningFactory, give_consent

pytestmark = pytest.mark.django_db

BORN = date(1961, 3, 4)
TYPED = "1961-03-04"
# (family, given, preferred): case, accents, apostrophes, hyphens, spaces, particles, a preferred name
# that must not decide the order, and the same name three times over (registration order decides).
NAMES = [
    ("de la Cruz", "María", ""),
    ("De La Cruz", "ana", ""),
    ("DE LA CRUZ", "Ana", ""),
    ("Delacruz", "Ana", ""),
    ("O'Brien", "Siobhán", ""),
    ("OBrien", "Sean", ""),
    ("o'brien", "aoife", ""),
    ("Smith-Jones", "Pat", ""),
    ("Smith Jones", "Pat", ""),
    ("Smith", "Pat", ""),
    ("Émond", "Éloïse", ""),
    ("Emond", "Eloise", ""),
    ("emond", "zoé", ""),
    ("Ødegård", "Øystein", ""),
    ("Trần", "Nguyễn", ""),
    ("Tran", "Nguyen", ""),
    ("van der Berg", "Willem", "Wim"),
    ("Van Der Berg", "Anouk", ""),
    ("MacDonald", "Robert", "Bob"),
    ("Macdonald", "Alasdair", ""),
    ("Mc Donald", "Fiona", ""),
    ("Lee", "Ji-woo", ""),
    ("Lee", "Ji-woo", ""),
    ("lee", "JI-WOO", ""),
    ("Łukasiewicz", "Jan", ""),
    ("Zimmermann", "Ülrich", ""),
    ("Ng", "Wai", ""),
    ("Aaronson", "Zed", ""),
]


def in_name_order(patients):
    return sorted(patients, key=lambda p: (p.family_name.lower(), p.given_name.lower(), p.pk))


@pytest.fixture
def born_together():
    """Twenty-eight current patients born the same day, three archived, and neighbours born a day either
    side (who must never be found)."""
    current = [
        PatientFactory(family_name=family, given_name=given, preferred_name=preferred, date_of_birth=BORN)
        for family, given, preferred in NAMES
    ]
    archived = [
        PatientFactory(family_name=f, given_name=g, date_of_birth=BORN, archived_at=timezone.now())
        for f, g in [("Aardvark", "Archie"), ("de la Cruz", "Ana"), ("Zz", "Zed")]
    ]
    for day in (-1, 1):
        PatientFactory(family_name="Aaronson", given_name="Abe", date_of_birth=BORN + timedelta(days=day))
    return current, archived


def by_the_orm(*, include_archived=False):
    """The rule as a queryset: the patients born that day in name order (what the fixed SQL replaced)."""
    found = Patient.objects.filter(date_of_birth=BORN)
    if not include_archived:
        found = found.filter(archived_at__isnull=True)
    return list(found.order_by(Lower("family_name"), Lower("given_name"), "id"))


def test_patients_born_that_day_come_in_name_order_up_to_the_limit(born_together):
    current, _ = born_together
    expected = by_the_orm()
    assert len(expected) == len(NAMES) > SEARCH_LIMIT
    assert [p.pk for p in search_patients(TYPED)] == [p.pk for p in expected[:SEARCH_LIMIT]]
    assert [p.pk for p in search_patients(TYPED, limit=10)] == [p.pk for p in expected[:10]]
    assert [p.pk for p in search_patients(TYPED, limit=2)] == [p.pk for p in expected[:2]]
    assert [p.pk for p in search_patients(TYPED, limit=None)] == [p.pk for p in expected]
    assert {p.pk for p in expected} == {p.pk for p in current}


def test_names_equal_but_for_case_come_in_registration_order(born_together):
    found = search_patients(TYPED, limit=None)
    lees = [p for p in found if p.family_name.lower() == "lee"]
    cruz_anas = [p for p in found if (p.family_name.lower(), p.given_name.lower()) == ("de la cruz", "ana")]
    assert [p.given_name for p in lees] == ["Ji-woo", "Ji-woo", "JI-WOO"]
    assert lees == sorted(lees, key=lambda p: p.pk)
    assert [(p.family_name, p.given_name) for p in cruz_anas] == [
        ("De La Cruz", "ana"),
        ("DE LA CRUZ", "Ana"),
    ]
    # An order no collation changes (names of plain letters a to z): the family name first, then the given
    # name, case ignored, then registration.
    plain = [
        p
        for p in found
        if (p.family_name + p.given_name).isascii() and (p.family_name + p.given_name).isalpha()
    ]
    assert len(plain) >= 8
    assert [p.pk for p in plain] == [p.pk for p in in_name_order(plain)]


def test_the_preferred_name_does_not_decide_the_order(born_together):
    found = search_patients(TYPED, limit=None)
    berg = [(p.given_name, p.preferred_name) for p in found if p.family_name.lower() == "van der berg"]
    assert berg == [("Anouk", ""), ("Willem", "Wim")]


def test_archived_patients_are_left_out_unless_asked_for(born_together):
    _, archived = born_together
    assert not set(search_patients(TYPED, limit=None)) & set(archived)
    every = search_patients(TYPED, include_archived=True, limit=None)
    assert set(archived) <= set(every)
    assert [p.pk for p in every] == [p.pk for p in by_the_orm(include_archived=True)]
    # The archived Aardvark comes first by name: only the archived view shows it, at the top.
    assert every[0].family_name == "Aardvark" and every[0].is_archived
    assert [p.pk for p in search_patients(TYPED, include_archived=True)] == [
        p.pk for p in by_the_orm(include_archived=True)[:SEARCH_LIMIT]
    ]


def test_a_day_nobody_was_born_finds_nobody(born_together):
    assert search_patients("1961-03-06") == []
    assert find_patients("1961-03-06").problem == ""


@pytest.mark.parametrize("include_archived", [False, True])
def test_the_statement_reads_the_ordered_index_and_sorts_nothing(born_together, include_archived):
    """The index holds the ORDER BY's own expressions, so a plan needs no sort. On a table this small the
    planner may as well read another index and sort a few rows, so scans and sorts are priced out of its
    choice here; at 1,000,000 patients it takes this plan by itself (docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        with CaptureQueriesContext(connection) as queries:
            assert search_patients(TYPED, include_archived=include_archived)
        cursor.execute("EXPLAIN " + queries.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using patient_dob_name_order_idx" in plan
    assert "Sort" not in plan


def test_the_date_of_birth_has_one_plain_index_not_two():
    """The ordered index replaced the plain one (its first column is the date); the folded-names index of
    migration 0006, for duplicates, is the only other one that starts with the date."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'patients_patient' "
            "AND indexdef LIKE '%(date_of_birth%' ORDER BY indexname"
        )
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["patient_dob_folded_names_idx", "patient_dob_name_order_idx"]


# --- what the desk sees ---------------------------------------------------------------------------------
def results_page(client, text, **extra):
    page = client.get(reverse("patients:list"), {"q": text, **extra}, headers={"HX-Request": "true"})
    assert page.status_code == 200
    return page.content.decode()


def picker_page(client, text):
    page = client.get(reverse("appointments:patient_search"), {"patient_query": text})
    assert page.status_code == 200
    return page.content.decode()


@pytest.fixture
def built_by_from_db():
    """While something listens for post_init, the search builds each patient through Model.from_db(), as
    it did before issue 17: the pages of that way are the reference."""

    def listener(sender, instance, **kwargs):
        listener.seen += 1

    listener.seen = 0
    post_init.connect(listener, sender=Patient)
    yield listener
    post_init.disconnect(listener, sender=Patient)


def test_the_search_page_lists_them_in_that_order(client_for, born_together):
    page = results_page(client_for(Role.FRONT_DESK), TYPED)
    expected = by_the_orm()[:SEARCH_LIMIT]
    positions = [page.index(reverse("patients:chart", args=[p.pk])) for p in expected]
    assert positions == sorted(positions)
    assert page.count("<tr>") == SEARCH_LIMIT + 1  # the header row
    assert f"Showing the first {SEARCH_LIMIT}" in page
    assert "Aardvark" not in page and "Aaronson, Abe" not in page
    archived_page = results_page(client_for(Role.FRONT_DESK), TYPED, archived="1")
    assert "Aardvark" in archived_page and "Archived" in archived_page


def test_the_pages_are_byte_for_byte_those_of_patients_built_by_from_db(client_for, born_together, request):
    current, _ = born_together
    ScreeningFactory(patient=current[0], diabetes=True)
    give_consent(current[1])
    Patient.objects.filter(pk=current[2].pk).update(phone="", phone_alternate="+16045550199")
    Patient.objects.filter(pk=current[3].pk).update(created_by=FrontDeskFactory())
    client = client_for(Role.FRONT_DESK)
    texts = [TYPED, "de la cruz", current[0].chart_number]
    pages = [results_page(client, text) for text in texts]
    pages += [results_page(client, TYPED, archived="1"), picker_page(client, TYPED)]
    listener = request.getfixturevalue("built_by_from_db")
    reference = [results_page(client, text) for text in texts]
    reference += [results_page(client, TYPED, archived="1"), picker_page(client, TYPED)]
    assert listener.seen > 0  # the reference really was built by from_db()
    assert pages == reference
    assert "Lee, Ji-woo" in pages[0] and "Lee, Ji-woo" in pages[-1]


def test_the_search_page_queries_as_often_for_one_patient_born_that_day_as_for_25(
    client_for, django_assert_max_num_queries
):
    client = client_for(Role.FRONT_DESK)
    PatientFactory(family_name="Solo", date_of_birth=BORN)
    # Six: the session, the user, the second factor, the search, the latest screenings, consent.
    with django_assert_max_num_queries(6):
        assert "Solo" in results_page(client, TYPED)
    PatientFactory.create_batch(30, date_of_birth=BORN)
    with django_assert_max_num_queries(6):
        assert results_page(client, TYPED).count("<tr>") == SEARCH_LIMIT + 1
