"""The words of the folded names (patients_name_word, migration 0009) and the search that widens each typed
word through them (patients/services.py, _NAME_HOLDS_WORD).

The table must hold every word of three characters or more that any patient's search_name has held,
whichever door wrote the patient: the ORM, bulk_create, COPY (bulk registration), raw SQL, a rename, a
TRUNCATE. A word missing from it would hide patients from the search; a word no patient holds any more
stays (the table only grows, so no write locks a word another writer needs) and finds nobody. These tests
compare it, after each write, with the words read from the patients themselves. The postings must hold
exactly each current patient's words. And the search through the words must find what the LIKE alone
found before (the old statement is written out below): the same patients in the same order, on names and
typed text chosen to be awkward."""

import importlib
import random
import threading
from datetime import date

import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import audited_transaction
from patients.dates import looks_like_a_date
from patients.models import Patient
from patients.services import (
    CHART_NUMBER,
    PHONE_LIKE,
    SEARCH_LIMIT,
    _clean_search_text,
    _close_matches,
    _patients_from_sql,
    _search_sql,
    find_patients,
    register_patients_in_bulk,
)
from tests.clinic.conftest import app_url
from tests.factories import AdminFactory, PatientFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("patients.migrations.0009_name_words")


def kept():
    """The words table as the triggers keep it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM patients_name_word")
        return {row[0] for row in cursor.fetchall()}


def held():
    """The words the patients' names hold now, read from the patients themselves."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT word FROM patients_patient, unnest(string_to_array(search_name, ' ')) AS word "
            "WHERE length(word) >= 3"
        )
        return {row[0] for row in cursor.fetchall()}


def posted():
    """The postings as the triggers keep them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT word, family, given, patient_id FROM patients_name_posting")
        return sorted(cursor.fetchall())


def listed():
    """The postings listed from the patients themselves: each current patient's words, once each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT word, lower(family_name), lower(given_name), id FROM patients_patient, "
            "unnest(string_to_array(search_name, ' ')) AS word "
            "WHERE length(word) >= 3 AND archived_at IS NULL"
        )
        return sorted(cursor.fetchall())


class Words:
    """What the words table should hold after each write: every word the names have held since the start."""

    def __init__(self):
        self.seen = set()

    def check(self):
        self.seen |= held()
        assert kept() == self.seen
        assert posted() == listed()


RAW_INSERT = (
    "INSERT INTO patients_patient (given_name, family_name, preferred_name, date_of_birth, sex,"
    " gender, phone, phone_alternate, email, address, phn, emergency_contact_name,"
    " emergency_contact_phone, emergency_contact_relationship, referral_source, created_at,"
    " chart_number, search_name, phone_digits) SELECT %s, %s, '', DATE '1970-01-01', '', '',"
    " '', '', '', '', '', '', '', '', '', now(), patients_next_chart_number(), '', ''"
)


def new(given, family, **fields):
    return Patient(given_name=given, family_name=family, date_of_birth=date(1980, 5, 17), **fields)


def test_every_door_keeps_the_words():
    words = Words()
    assert kept() == set()
    zoe = PatientFactory(given_name="Zoë", family_name="Côté")
    assert kept() == {"zoe", "cote"}
    Patient.objects.bulk_create(
        [new("Anne Anne", "Côté-Smith"), new("Jo", "Côté"), new("Li", "Ng", preferred_name="Lee")]
    )
    words.check()
    # Words under three characters are not kept.
    assert "anne" in kept() and "jo" not in kept() and "ng" not in kept()
    assert [row for row in posted() if row[3] == zoe.pk] == [
        ("cote", "côté", "zoë", zoe.pk),
        ("zoe", "côté", "zoë", zoe.pk),
    ]
    with audited_transaction():
        register_patients_in_bulk([new("Kenji", "Sato"), new("Zoé", "Sato")], by=AdminFactory(), detail="t")
    assert "sato" in kept()
    words.check()
    with connection.cursor() as cursor:
        cursor.execute(RAW_INSERT, ["Raw", "Sato"])
    assert "raw" in kept()
    words.check()

    # A rename through the ORM adds the new word; the old one stays, held by nobody, and finds nobody.
    zoe.given_name = "Chloé"
    zoe.save()
    assert {"zoe", "chloe"} <= kept()
    words.check()
    # A preferred name is part of the name; clearing it takes the patient out of its postings.
    li = Patient.objects.get(given_name="Li")
    li.preferred_name = ""
    li.save()
    assert not [row for row in posted() if row[0] == "lee"]
    assert find_patients("lee").patients == []
    words.check()
    # One UPDATE of several rows, and raw SQL swapping two patients' names.
    Patient.objects.filter(family_name="Sato").update(family_name="Tanaka")
    assert "tanaka" in kept() and find_patients("sato").patients == []
    words.check()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patient p SET given_name = o.given_name FROM patients_patient o "
            "WHERE (p.given_name, o.given_name) IN (('Kenji', 'Raw'), ('Raw', 'Kenji'))"
        )
    assert Patient.objects.filter(given_name="Kenji").count() == 1
    words.check()

    # Saves that leave the names alone (archiving, a phone) leave the words alone.
    before = kept()
    zoe.archived_at = timezone.now()
    zoe.phone = "+16045550123"
    zoe.save()
    Patient.objects.update(email="someone@example.ca")
    assert kept() == before
    # An archived patient leaves the postings (the search reads current patients from them), a restored
    # one comes back; a family name changed only in case moves its postings.
    assert not [row for row in posted() if row[3] == zoe.pk]
    words.check()
    zoe.archived_at = None
    zoe.family_name = "CÔTÉ"
    zoe.save()
    assert [row[:3] for row in posted() if row[3] == zoe.pk] == [
        ("chloe", "côté", "chloé"),
        ("cote", "côté", "chloé"),
    ]
    words.check()
    Patient.objects.filter(given_name="Kenji").update(archived_at=timezone.now())
    words.check()

    # Patients are never deleted: the refusal leaves the words and postings as they were ...
    postings = posted()
    with pytest.raises(DatabaseError), transaction.atomic():
        Patient.objects.filter(pk=zoe.pk).delete()
    assert kept() == before and posted() == postings
    words.check()


def test_a_delete_takes_its_postings_away():
    # Patients are never deleted (the refusal above); if the owner ever let a DELETE through, the postings
    # would follow it (the words stay, as after a rename).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE patients_patient DISABLE TRIGGER patients_patient_never_delete")
    for given, family in [("Chloé", "Côté"), ("Raw", "Sato"), ("Zoë", "Côté")]:
        PatientFactory(given_name=given, family_name=family)
    Patient.objects.filter(given_name="Chloé").delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM patients_patient WHERE given_name = 'Raw'")
    assert posted() == listed() and {row[0] for row in posted()} == {"zoe", "cote"}
    assert kept() == {"chloe", "cote", "raw", "sato", "zoe"}
    assert find_patients("sato").patients == []


@pytest.fixture
def as_app_role(transactional_db):
    """The role requests run as (not the owner the suite connects as), in autocommit."""
    with psycopg.connect(app_url(), autocommit=True) as app:
        yield app


def test_the_app_role_writes_the_words_through_the_triggers(as_app_role):
    as_app_role.execute(RAW_INSERT, ["Zoë", "Côté"])
    as_app_role.execute(RAW_INSERT, ["Kenji", "Sato"])
    as_app_role.execute("UPDATE patients_patient SET family_name = 'Tanaka' WHERE given_name = 'Kenji'")
    as_app_role.execute("UPDATE patients_patient SET archived_at = now() WHERE given_name = 'Zoë'")
    assert kept() == {"zoe", "cote", "kenji", "sato", "tanaka"}
    assert posted() == listed()
    assert [p.given_name for p in find_patients("tana").patients] == ["Kenji"]


def test_truncate_empties_the_words():
    PatientFactory(given_name="Zoë", family_name="Côté")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys' checks, due at commit
        cursor.execute("TRUNCATE patients_patient CASCADE")
    assert kept() == set() and posted() == []


def test_the_migration_fills_in_the_words_of_the_patients_already_there():
    for given, family in [("Zoë", "Côté"), ("Anne Anne", "Côté-Smith"), ("Jo", "Ng"), ("Émile", "côté")]:
        PatientFactory(given_name=given, family_name=family)
    PatientFactory(given_name="Old", family_name="Timer", archived_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM patients_name_word")
        cursor.execute("DELETE FROM patients_name_posting")
        cursor.execute(MIGRATION.BACKFILL)
    assert kept() == held() == {"zoe", "cote", "anne", "cote-smith", "emile", "old", "timer"}
    assert posted() == listed() and len(posted()) == 6


# --- the search through the words finds what the LIKE alone found -----------------------------------------
# The name statement as it was before migration 0009: each folded word LIKE '%word%' on search_name.
OLD_NAME_HOLDS_WORD = (
    "search_name LIKE '%%' || REPLACE(REPLACE(REPLACE(patients_fold(%s), E'\\\\', E'\\\\\\\\'), "
    "E'%%', E'\\\\%%'), E'_', E'\\\\_') || '%%'"
)


def old_find(text, *, include_archived, limit):
    """What find_patients found for a name before the words table: the old statement, then the typo fallback
    (unchanged) when it found nobody."""
    text = _clean_search_text(text)
    words = text.split(" ")
    sql = _search_sql(" AND ".join([OLD_NAME_HOLDS_WORD] * len(words)), include_archived)
    found = _patients_from_sql(sql, [*words, limit or None])
    return found or _close_matches(text, include_archived=include_archived, limit=limit)


GIVEN = [
    "Zoë", "Zoe", "Marie-Ève", "Jean-François", "D'Arcy", "Siobhán", "Li_Na", "Lina", "Back\\Slash", "Ann",
    "Anne", "Anna", "Jo", "Al", "Ed", "É", "Øystein", "Straße", "Æsa", "Jose\u0301", "José", "100%",
    "Mary Ann", "Nguyễn", "Ève", "Ab", "Abc",
]  # fmt: skip
FAMILY = [
    "Côté", "Cote", "Campbell", "Campbell-Ève", "Campeau", "Camp", "O'Brien", "OBrien", "Van der Berg",
    "de la Cruz", "Ødegård", "Trần", "Wong", "Ng", "Li", "Sato", "Satō", "½ Moon", "Pure 100%", "Mc_Kay",
    "Smith", "Smithson", "Ax",
]  # fmt: skip
TYPED = [
    "c", "e", "ng", "li", "jo", "ab", "abc", "ax", "é", "ø",  # one and two letters, and three
    "cote", "CÔTÉ", "côte", "camp", "CAMP", "amp", "mpbel", "bell", "eau", "smith", "mith", "son",
    "marie-eve campbell", "marie ève", "ève", "eve", "e-ca", "'", "o'b", "d'arcy", "obrien", "'brien",
    "van der berg", "der", "de la", "la cruz", "mary ann", "ry an", "ann", "anne", "zoe cote", "côté zoë",
    "%", "_", "\\", "100%", "0%", "li_na", "li%na", "c_kay", "mc_", "back\\slash", "k\\s", "\\sl",
    "½", "1/2", "1/2 moon", "moon", "oystein", "odegard", "ødegård", "strasse", "straße", "ss", "aesa", "æsa",
    "jose", "josé", "nguyen tran", "tran", "sato", "satō", "sat", "wong lina", "a b c d e", "zzz", "qxj",
    "cammpbell", "marie-eve cammpbell", "smiht",  # typos: the fallback, the same on both sides
]  # fmt: skip


@pytest.fixture
def varied():
    """Names drawn from awkward pools: accents, hyphens, apostrophes, LIKE's wildcards, a backslash, words
    of one and two letters, names of two words, a combining accent, characters unaccent folds to two or to
    text with a space (½ -> ' 1/2'), preferred names; some patients archived."""
    pick = random.Random(17)
    made = []
    for n in range(90):
        made.append(
            PatientFactory(
                given_name=pick.choice(GIVEN),
                family_name=pick.choice(FAMILY),
                preferred_name=pick.choice(["", "", "", "Bob", "Evie", "Al", "Zo"]),
                archived_at=timezone.now() if n % 9 == 0 else None,
            )
        )
    return made


@pytest.mark.parametrize("include_archived", [False, True])
@pytest.mark.parametrize("limit", [SEARCH_LIMIT, 3, None])
def test_the_words_search_finds_what_the_like_alone_found(varied, include_archived, limit):
    for text in TYPED:
        assert not (looks_like_a_date(text) or CHART_NUMBER.match(text) or PHONE_LIKE.match(text)), text
        expected = old_find(text, include_archived=include_archived, limit=limit)
        found = find_patients(text, include_archived=include_archived, limit=limit).patients
        assert [p.pk for p in found] == [p.pk for p in expected], text


def test_the_words_search_still_agrees_after_renames(varied):
    for patient in varied[::4]:
        patient.family_name, patient.given_name = patient.given_name, "Smithers"
        patient.save()
    Patient.objects.filter(family_name="Campbell").update(family_name="Campbello")
    for text in TYPED:
        expected = old_find(text, include_archived=True, limit=None)
        assert [p.pk for p in find_patients(text, include_archived=True, limit=None).patients] == [
            p.pk for p in expected
        ], text


def test_the_comparison_means_something(varied):
    found = {text: old_find(text, include_archived=True, limit=None) for text in TYPED}
    assert sum(bool(patients) for patients in found.values()) >= len(TYPED) - 8
    assert len(found["c"]) > 10 and len(found["camp"]) > 3 and len(found["½"]) >= 1


def plan_of(text, **options):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as queries:
            find_patients(text, **options)
        cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    "typed,options",
    [("marie-eve campbell", {}), ("campbell", {"include_archived": True}), ("amp", {"limit": None})],
)
def test_words_of_three_letters_or_more_are_widened_through_the_words(varied, typed, options):
    plan = plan_of(typed, **options)
    assert "on patients_name_word " in plan and "patient_name_words_idx" in plan, plan


@pytest.mark.parametrize("typed,limit", [("campbell", SEARCH_LIMIT), ("amp", 10)])
def test_one_word_for_current_patients_reads_the_first_of_each_word_in_name_order(varied, typed, limit):
    plan = plan_of(typed, limit=limit)
    assert "on patients_name_word " in plan and "patients_name_posting_pkey" in plan, plan
    assert "patient_name_words_idx" not in plan and "patient_name_trgm" not in plan


@pytest.mark.parametrize("typed", ["c", "ng", "½", "é", "c campbell"])
def test_a_shorter_word_or_one_folded_to_a_space_keeps_the_like_alone(varied, typed):
    plan = plan_of(typed)
    if " " not in typed:
        assert "patients_name_word" not in plan and "patient_name_words_idx" not in plan
    assert "patients_name_posting" not in plan


def test_a_registration_with_a_common_word_waits_for_nobody(as_app_role):
    """Two front desks register two Satos at once: the word is there already, so neither locks it (ON
    CONFLICT DO NOTHING on a row present takes no lock), and the second commits while the first is still
    open. With a count per word, the second would wait for the first's row lock on 'sato'."""
    as_app_role.execute(RAW_INSERT, ["Kenji", "Sato"])
    url = app_url()
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        first.execute(RAW_INSERT, ["Aiko", "Sato"])
        other = threading.Thread(
            target=lambda: (second.execute(RAW_INSERT, ["Ren", "Sato"]), second.commit())
        )
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "the second registration waited for the first"
        first.commit()
    assert kept() == {"kenji", "sato", "aiko", "ren"}
    assert posted() == listed()
    assert [p.given_name for p in find_patients("sato").patients] == ["Aiko", "Kenji", "Ren"]


def test_two_registrations_of_one_new_word_both_keep_it(as_app_role):
    """Two patients with a word nobody had, registered at once: the second waits only for the first's new
    word (the primary key's check), then finds it there and goes on; the word is kept once."""
    url = app_url()
    with psycopg.connect(url) as first, psycopg.connect(url) as second:
        first.execute(RAW_INSERT, ["Aiko", "Quennell"])
        other = threading.Thread(
            target=lambda: (second.execute(RAW_INSERT, ["Ren", "Quennell"]), second.commit())
        )
        other.start()
        other.join(timeout=1)
        first.commit()
        other.join(timeout=10)
        assert not other.is_alive()
    assert kept() == {"aiko", "ren", "quennell"}
    assert posted() == listed()
    assert [p.given_name for p in find_patients("quenn").patients] == ["Aiko", "Ren"]
