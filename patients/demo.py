"""Demo patients and screenings: realistic, varied Canadian names (accents included), phones, dates of
birth, some valid BC PHNs, and screenings with some positive flags. Deterministic (each patient is drawn
from its own seeded generator, so growing from 60 to 100000 keeps the first 60), idempotent (only the
missing patients are added) and fast at any size (COPY)."""

import random
import unicodedata
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

from .forms import PATIENT_FIELDS
from .models import SCREENING_ITEMS, SITE_ITEMS, Patient, Sex
from .validators import phn_check_digit

DEMO_SEED = 20261124
NOW = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)

# fmt: off
GIVEN_FEMALE = [
    "Zoë", "Chloé", "Amélie", "Émilie", "Sophie", "Olivia", "Emma", "Charlotte", "Ava", "Maya", "Priya",
    "Aaliyah", "Mei", "Jia", "Linh", "Thảo", "Sakura", "Ananya", "Fatima", "Noor", "Isabelle", "Geneviève",
    "Hélène", "Marie-Ève", "Siobhán", "Freya", "Ingrid", "Renée", "Leah", "Hannah", "Grace", "Simran",
    "Harpreet", "Aiyana", "Kateri", "Ximena", "María", "Lucía", "Inés", "Björk", "Małgorzata", "Zofia",
]
GIVEN_MALE = [
    "José", "François", "Noël", "Jérôme", "André", "Liam", "Noah", "William", "Lucas", "Benjamin", "Ethan",
    "Oliver", "Arjun", "Rohan", "Gurpreet", "Jaspreet", "Wei", "Hiroshi", "Minh", "Quang", "Dũng", "Omar",
    "Yusuf", "Mateo", "Santiago", "Raphaël", "Étienne", "Thomas", "Samuel", "Mathis", "Kai", "Tavish",
    "Seán", "Björn", "Søren", "Łukasz", "Tomás", "Darius", "Ahmad", "Kwame",
]
FAMILY = [
    "Côté", "Tremblay", "Gagnon", "Bouchard", "Gauthier", "Bélanger", "Lévesque", "Pelletier", "Bergeron",
    "Leblanc", "Nguyễn", "Trần", "Lê", "Phạm", "Smith", "Brown", "Wilson", "MacDonald", "Campbell",
    "Anderson", "Thompson", "Martin", "Roy", "Singh", "Sandhu", "Gill", "Dhillon", "Grewal", "Patel",
    "Shah", "Wong", "Chen", "Li", "Lam", "Kim", "Park", "Tanaka", "Sato", "O'Brien", "O'Connor",
    "Ó Súilleabháin", "García", "Hernández", "Muñoz", "Peña", "Kowalski", "Wójcik", "Müller", "Schäfer",
    "Jørgensen", "Björklund", "Haddad", "Khoury", "Mensah", "Okafor", "Thunderchild", "Cardinal", "Manuel",
    "Sauvé", "St-Pierre", "D'Amours", "Van der Berg",
]
AREA_CODES = [
    "604", "778", "236", "250", "672",
]
STREETS = [
    "Main St", "Commercial Dr", "Kingsway", "Fraser St", "W Broadway", "Oak St", "Cambie St",
]
CITIES = [
    "Vancouver, BC", "Burnaby, BC", "Richmond, BC", "Surrey, BC", "Victoria, BC", "Kelowna, BC",
]
REFERRALS = [
    "Family physician", "Walk-in clinic", "Friend or family", "Website", "WorkSafeBC", "ICBC", "",
]
RELATIONSHIPS = [
    "Spouse", "Partner", "Parent", "Sibling", "Friend", "Daughter", "Son",
]
# fmt: on
# Named patients the README and the tests find by name, at fixed places in the demo (drawn female, so the
# rest of their row fits): "hariet", "quenel" and "harriet quenel" find the first (typo-tolerant search).
NAMED = {12: ("Harriet", "Quennell-Ortiz")}
GENDERS = {"female": ["Woman", "Woman", "Woman", ""], "male": ["Man", "Man", "Man", ""]}

# The registration form's fields, and the two the desk never types: the rows are drawn by name below.
PATIENT_COLUMNS = [*PATIENT_FIELDS, "archived_at", "created_at"]
SCREENING_COLUMNS = (
    ["patient_id", "answered_by_id", "answered_at"]
    + [name for key, _label in SCREENING_ITEMS for name in (key, f"{key}_note")]
    + [name for key in SITE_ITEMS for name in (f"{key}_site", f"{key}_side")]
)
# Rough share of patients answering yes to each item, so the demo shows some flags without drowning in them.
FLAG_RATE = 0.04
FLAG_NOTES = {
    "bleeding_risk": "Takes apixaban",
    "pregnancy": "Second trimester",
    "needle_phobia": "Anxious; go slowly",
    "immunosuppression": "On methotrexate",
    "diabetes": "Type 2, well controlled",
    "epilepsy": "Last seizure 2019",
    "lymphoedema": "Left arm after surgery",
    "metal_allergy": "Nickel",
    "recent_surgery": "Shoulder arthroscopy 6 weeks ago",
    "infection_at_site": "Cellulitis right calf",
    "unable_to_consent": "Consent from guardian",
    "chronic_lung_disease": "COPD, on inhalers",
    "previous_pneumothorax": "Spontaneous, left, 2019",
    "low_body_mass": "BMI 17; thin chest wall",
}
# Where the items that name a site are, as the notes above say (the shoulder: the right one).
FLAG_SITES = {
    "lymphoedema": (["upper_arm_front", "upper_arm_back", "forearm_front", "forearm_back"], "L"),
    "recent_surgery": (["shoulder_front", "shoulder_back"], "R"),
    "infection_at_site": (["calf"], "R"),
}


def phone(rng):
    return f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def demo_phn(index):
    """A valid, unique PHN for patient number `index`, or "" when its digits admit no check digit."""
    first_nine = f"9{(index * 7919 + 12345678) % 10**8:08d}"
    check = phn_check_digit(first_nine)
    return "" if check is None else first_nine + str(check)


def patient_row(index):
    rng = random.Random(DEMO_SEED * 1_000_003 + index)
    sex = rng.choice(
        [Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.MALE, Sex.INTERSEX, Sex.UNKNOWN][: 4 + (index % 7 == 0)]
    )
    given = rng.choice(
        GIVEN_FEMALE if sex == Sex.FEMALE else GIVEN_MALE if sex == Sex.MALE else GIVEN_FEMALE + GIVEN_MALE
    )
    family = rng.choice(FAMILY)
    given, family = NAMED.get(index, (given, family))
    born = date(1938, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))  # adults of 18 to 88 in 2026
    preferred = given.split("-")[0][:3] if rng.random() < 0.05 else ""
    plain = unicodedata.normalize("NFKD", f"{given}.{family}".lower())
    email_name = "".join(ch for ch in plain if ch.isascii() and (ch.isalnum() or ch == "."))
    # Drawn in this order (the generator's sequence keeps every patient as it was); written by column.
    return {
        "given_name": given,
        "family_name": family,
        "preferred_name": preferred,
        "date_of_birth": born.isoformat(),
        "sex": sex,
        "gender": rng.choice(GENDERS.get(sex, ["", "Non-binary"])),
        "phone": phone(rng),
        "phone_alternate": phone(rng) if rng.random() < 0.2 else "",
        "email": f"{email_name}{index}@example.ca" if rng.random() < 0.8 else "",
        "address": f"{rng.randint(100, 9999)} {rng.choice(STREETS)}\n{rng.choice(CITIES)}",
        "phn": demo_phn(index) if rng.random() < 0.6 else "",
        "emergency_contact_name": f"{rng.choice(GIVEN_FEMALE + GIVEN_MALE)} {family}",
        "emergency_contact_phone": phone(rng),
        "emergency_contact_relationship": rng.choice(RELATIONSHIPS),
        "referral_source": rng.choice(REFERRALS),
        "archived_at": (
            (NOW - timedelta(days=rng.randint(1, 900))).isoformat() if rng.random() < 0.01 else None
        ),
        "created_at": (NOW - timedelta(days=rng.randint(0, 3650))).isoformat(),
    }


def screening_row(index, patient_id, physiotherapists, patient):
    """A screening for about four patients in five; some are older than a year (shown as due).
    `patient` is the patient's row as patient_row() drew it."""
    rng = random.Random(DEMO_SEED * 7_000_003 + index)
    if rng.random() >= 0.8 or not physiotherapists:
        return None
    answered = NOW - timedelta(days=rng.randint(0, 540))
    age = (answered.date() - date.fromisoformat(patient["date_of_birth"])).days // 365
    row = [patient_id, rng.choice(physiotherapists).pk, answered.isoformat()]
    answers = {}
    for key, _label in SCREENING_ITEMS:
        positive = rng.random() < FLAG_RATE
        if key == "pregnancy":
            positive = positive and patient["sex"] == Sex.FEMALE and 16 <= age <= 48
        row += [positive, FLAG_NOTES[key] if positive else ""]
        answers[key] = positive
    for key in SITE_ITEMS:
        regions, side = FLAG_SITES[key] if answers[key] else ([], "")
        row += [regions, side]
    return row


def add_patients(size, physiotherapists=()):
    """Bring the number of patients up to `size` with demo patients (and their screenings); return how
    many were added. The patients already there count, so running it twice adds nothing."""
    start = Patient.objects.count()
    if start >= size:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM patients_patient")
        (last_id,) = cursor.fetchone()
        rows = [patient_row(index) for index in range(start, size)]
        with cursor.cursor.copy(f"COPY patients_patient ({', '.join(PATIENT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[column] for column in PATIENT_COLUMNS])
        cursor.execute("SELECT id FROM patients_patient WHERE id > %s ORDER BY id", [last_id])
        new_ids = [row[0] for row in cursor.fetchall()]
        physiotherapists = list(physiotherapists)
        with cursor.cursor.copy(
            f"COPY patients_screening ({', '.join(SCREENING_COLUMNS)}) FROM STDIN"
        ) as copy:
            for index, patient_id, patient in zip(range(start, size), new_ids, rows, strict=True):
                row = screening_row(index, patient_id, physiotherapists, patient)
                if row is not None:
                    copy.write_row(row)
        cursor.execute("ANALYZE patients_patient")
        cursor.execute("ANALYZE patients_screening")
    return size - start


def seed(demo):
    physiotherapists = [
        user
        for user in demo.shared.get("physiotherapists", [])
        if hasattr(user, "clinician_profile") and user.clinician_profile.needling_authorised()
    ]
    added = add_patients(demo.size, physiotherapists)
    demo.shared["patients_added"] = added
