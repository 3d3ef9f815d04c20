"""The standard codes the FHIR export writes are the ones shared/DOMAIN.md gives, each well formed: a
SNOMED CT identifier with a valid Verhoeff check digit and the partition of a concept from the
International Edition, a LOINC code with a valid check digit (docs/fhir.md, "Codes and where they come
from")."""

import pytest

from interop import codes

# shared/DOMAIN.md, "Codes for interoperability (FHIR R4)", as of issue 16.
DOMAIN = {
    "dry needling": (codes.SNOMED, "231082000"),
    "left": (codes.SNOMED, "7771000"),
    "right": (codes.SNOMED, "24028007"),
    "bilateral": (codes.SNOMED, "51440002"),
    "pain 0 to 10": (codes.LOINC, "72514-3"),
    "pneumothorax": (codes.SNOMED, "36118008"),
    "pneumothorax, postprocedural": (codes.ICD10CM, "J95.811"),
}
WRITTEN = {
    "dry needling": codes.DRY_NEEDLING,
    "left": codes.LATERALITY["L"],
    "right": codes.LATERALITY["R"],
    "bilateral": codes.LATERALITY["B"],
    "pain 0 to 10": codes.PAIN_NRS,
    "pneumothorax": codes.PNEUMOTHORAX[0],
    "pneumothorax, postprocedural": codes.PNEUMOTHORAX[1],
}

# Verhoeff's dihedral check, as SNOMED CT's Technical Implementation Guide specifies for every identifier.
MULTIPLY = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
PERMUTE = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_valid(number):
    check = 0
    for position, digit in enumerate(reversed(number)):
        check = MULTIPLY[check][PERMUTE[position % 8][int(digit)]]
    return check == 0


def loinc_valid(code):
    """LOINC's mod 10 check digit (the digit after the hyphen)."""
    body, check = code.split("-")
    total = 0
    for position, digit in enumerate(reversed(body)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(check)


@pytest.mark.parametrize("concept", DOMAIN)
def test_the_export_writes_the_code_domain_md_gives(concept):
    assert WRITTEN[concept][:2] == DOMAIN[concept]


@pytest.mark.parametrize("concept", [c for c, (system, _code) in DOMAIN.items() if system == codes.SNOMED])
def test_each_snomed_code_is_an_international_edition_concept_id(concept):
    sctid = DOMAIN[concept][1]
    assert verhoeff_valid(sctid)
    # Partition 00: a concept id in the short format, without a namespace: allocated by SNOMED
    # International (the International Edition). A national extension's concepts (the Canadian Edition's,
    # for one) carry a namespace and partition 10.
    assert sctid[-3:-1] == "00"


def test_the_checks_catch_a_mistyped_code():
    assert not verhoeff_valid("231082001") and not verhoeff_valid("7771001")
    assert not loinc_valid("72514-4")


@pytest.mark.parametrize("code", [codes.PAIN_NRS[1], codes.CONSENT_CATEGORY[1]])
def test_each_loinc_code_has_a_valid_check_digit(code):
    assert loinc_valid(code)
