import pytest
from django.core.management import call_command

from patients.models import Patient, Screening
from patients.services import search_patients
from patients.validators import validate_phn

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_patients_with_accented_names_and_valid_phns():
    call_command("seed_demo", "--size", "200", "--quiet")
    assert Patient.objects.count() == 200
    names = set(Patient.objects.values_list("family_name", flat=True))
    assert names & {"Côté", "Nguyễn", "Bélanger", "Lévesque"}
    phns = list(Patient.objects.exclude(phn="").values_list("phn", flat=True))
    assert len(phns) > 50
    for phn in phns:
        validate_phn(phn)
    assert (
        Screening.objects.filter(pregnancy=True).exists() or Screening.objects.filter(diabetes=True).exists()
    )
    assert list(search_patients("nguyen"))


def test_seed_demo_is_deterministic_and_idempotent():
    call_command("seed_demo", "--size", "30", "--quiet")
    first = list(
        Patient.objects.order_by("id").values_list("given_name", "family_name", "date_of_birth", "phn")
    )
    screenings = Screening.objects.count()
    call_command("seed_demo", "--size", "30", "--quiet")
    assert Patient.objects.count() == 30 and Screening.objects.count() == screenings
    call_command("seed_demo", "--size", "40", "--quiet")
    grown = list(
        Patient.objects.order_by("id").values_list("given_name", "family_name", "date_of_birth", "phn")
    )
    assert grown[:30] == first and len(grown) == 40


def test_the_demo_clinic_finds_harriet_quennell_ortiz_through_the_readmes_typos():
    call_command("seed_demo", "--size", "200", "--quiet")
    for typed in ("hariet", "quenel", "harriet quenel"):
        found = search_patients(typed)
        assert [(p.given_name, p.family_name) for p in found[:1]] == [("Harriet", "Quennell-Ortiz")], typed
    assert search_patients("xqzvwk") == []
