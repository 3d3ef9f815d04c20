"""Rules about patients that span rows: duplicates, registration, archiving, search, screening."""

import re
from dataclasses import dataclass
from datetime import UTC

import phonenumbers
from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity, TrigramStrictWordSimilarity
from django.core.exceptions import ValidationError
from django.db import connection, connections, router, transaction
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.base import Model, ModelState
from django.db.models.functions import Lower
from django.db.models.signals import post_init, pre_init
from django.utils import timezone
from phonenumber_field.phonenumber import to_python as phone_to_python

from audit.models import Action
from audit.services import audited_transaction, record

from .dates import looks_like_a_date, parse_date_of_birth
from .models import (
    LATER_ITEMS,
    SCREENING_ITEMS,
    SCREENING_LABELS,
    AppliesTo,
    FindingKind,
    Patient,
    Screening,
    ScreeningRule,
    describe_site,
)
from .selectors import screenings_of

SEARCH_LIMIT = 25


class PossibleDuplicate(ValidationError):
    """Raised when a patient with the same name and date of birth is already registered."""

    def __init__(self, existing):
        self.existing = list(existing)
        super().__init__(
            "A patient with this name and date of birth is already registered. Open the existing record, "
            "or tick \u201cregister anyway\u201d if this really is a different person.",
            code="possible_duplicate",
        )


def _folded(expression):
    """Lower-cased and accent-free, as the database folds search_name (migration 0002)."""
    return Func(expression, function="patients_fold", output_field=TextField())


def possible_duplicates(given_name, family_name, date_of_birth, exclude_pk=None):
    """Patients (archived ones too) whose given and family names match, ignoring case and accents, and
    who share the date of birth."""
    found = (
        Patient.objects.annotate(
            given_folded=_folded(F("given_name")), family_folded=_folded(F("family_name"))
        )
        .filter(
            date_of_birth=date_of_birth,
            given_folded=_folded(Value(given_name.strip())),
            family_folded=_folded(Value(family_name.strip())),
        )
        .order_by("chart_number")
    )
    if exclude_pk is not None:
        found = found.exclude(pk=exclude_pk)
    return found


def register_patient(patient, *, request, register_anyway=False):
    """Save a new patient and audit it, in one transaction. Refuses (PossibleDuplicate) a name and date of
    birth already on file unless register_anyway is set by the person registering."""
    if not register_anyway:
        existing = list(possible_duplicates(patient.given_name, patient.family_name, patient.date_of_birth))
        if existing:
            raise PossibleDuplicate(existing)
    patient.created_by = request.user
    with audited_transaction():
        patient.save()
        record(
            Action.CREATE,
            request=request,
            obj=patient,
            patient_id=patient.pk,
            detail="registered despite a possible duplicate" if register_anyway else "",
        )
    return patient


def update_patient(patient, changed_fields, *, request):
    """Save edits to a patient; the audit event names the changed fields, never their values."""
    with audited_transaction():
        patient.save()
        record(
            Action.UPDATE,
            request=request,
            obj=patient,
            patient_id=patient.pk,
            detail="changed: " + ", ".join(sorted(changed_fields)) if changed_fields else "no change",
        )
    return patient


def archive_patient(patient, *, request):
    """Archive a patient (hidden from search, kept for the records law). Refuses one already archived."""
    if patient.archived_at is not None:
        raise ValidationError("This patient is already archived.")
    patient.archived_at = timezone.now()
    with audited_transaction():
        patient.save(update_fields=["archived_at"])
        record(Action.ARCHIVE, request=request, obj=patient, patient_id=patient.pk, detail="archived")
    return patient


def restore_patient(patient, *, request):
    """Bring an archived patient back into search. Refuses one that is not archived."""
    if patient.archived_at is None:
        raise ValidationError("This patient is not archived.")
    patient.archived_at = None
    with audited_transaction():
        patient.save(update_fields=["archived_at"])
        record(
            Action.RESTORE,
            request=request,
            obj=patient,
            patient_id=patient.pk,
            detail="restored from the archive",
        )
    return patient


# --- search -----------------------------------------------------------------------------------------
CHART_NUMBER = re.compile(r"^c\d+$", re.IGNORECASE)
PHONE_LIKE = re.compile(r"^[\d\s()+.\-]+$")
# Fewer digits than this are part of a number ("the last four digits"), found anywhere in the numbers.
WHOLE_PHONE_DIGITS = 10
# Words shorter than this are too short for trigrams to tell a typo from another name; in the typo
# fallback they still have to appear in the name as typed.
FUZZY_WORD_LENGTH = 3
# The least word similarity (pg_trgm) at which a typed word counts as a typo of part of a name.
CLOSE_MATCH_THRESHOLD = 0.5


@dataclass
class PatientSearch:
    """What one search box's text found: the patients, whether they are close matches for text that no
    name holds as typed (a typo), and, for a date that cannot be read one way only, why nothing was."""

    patients: list
    close_matches: bool = False
    problem: str = ""


def _clean_search_text(text):
    # PostgreSQL refuses NUL in text; nobody's name or phone needs more than 100 characters to be found.
    return " ".join(text.replace("\x00", "").split())[:100]


def whole_phone_digits(text):
    """The digits a whole phone number typed in the box (a number possible in the clinic's region,
    PHONENUMBER_DEFAULT_REGION, or international with +) may be stored under: with its country code,
    and without it for numbers stored without one; () for anything shorter than a whole number."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < WHOLE_PHONE_DIGITS:
        return ()
    try:
        number = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ()
    if not phonenumbers.is_possible_number(number):
        return ()
    national = phonenumbers.national_significant_number(number)
    return tuple(dict.fromkeys((f"{number.country_code}{national}", national, digits)))


def search_condition(text):
    """The Q that one search box's text means, or None for text that cannot match anything.

    A date (YYYY-MM-DD, or as patients/dates.py reads it) matches the date of birth; a chart number
    (C000123, C123) matches exactly; digits match a PHN exactly and a chart number, and the phones: a
    whole number (whole_phone_digits) equals either of the patient's numbers, fewer digits match anywhere
    in them (so the last four digits work); anything else is split into words, each of which must
    appear in the name, ignoring case and accents. Every branch is served by an index (trigram, b-tree
    or unique). A date that could be two dates (03/04/1985) or has a two-digit year matches nothing."""
    text = _clean_search_text(text)
    if not text:
        return None
    if looks_like_a_date(text):
        try:
            return Q(date_of_birth=parse_date_of_birth(text))
        except ValidationError:
            return None
    if CHART_NUMBER.match(text):
        return Q(chart_number=f"C{int(text[1:]):06d}")
    if PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) < 3:
            return None
        condition = Q(chart_number=f"C{int(digits):06d}")
        if len(digits) == 10:
            condition |= Q(phn=digits)
        whole = whole_phone_digits(text)
        if whole:
            # A whole number is looked up by equality on the numbers' own b-trees (migration 0007): its
            # digits are in many numbers' trigrams, so the trigram index would read thousands of rows.
            return condition | Q(phone__digits__in=whole) | Q(phone_alternate__digits__in=whole)
        return condition | Q(phone_digits__contains=digits)
    condition = Q()
    for word in text.split(" "):
        condition &= Q(search_name__contains=_folded(Value(word)))
    return condition


def _close_matches(text, *, include_archived, limit):
    """Patients whose names are close to the words typed (pg_trgm's trigram similarity), closest first;
    [] when no word is long enough to compare.

    Each word of three letters or more must match some stretch of the name with a word similarity of at
    least CLOSE_MATCH_THRESHOLD: "hariet" shares 0.67 of its trigrams with "harriet", "quenel" 0.57 with
    "quennell", a random string nothing. pg_trgm's default (0.6) would miss "quenel", so the threshold
    is set for this one transaction. The `%>` operator (Django's trigram_word_similar) is what lets the
    GIN trigram index on search_name find the candidates. They are ranked by strict word similarity,
    which compares whole words ("quenel" is closer to "quennell", 0.45, than to "quenneville", 0.27,
    though both share the same stretch), summed over the words, then by the whole text's similarity."""
    words = text.split(" ")
    if not any(len(word) >= FUZZY_WORD_LENGTH for word in words):
        return []
    condition = Q()
    rank = Value(0.0)
    for word in words:
        folded = _folded(Value(word))
        if len(word) < FUZZY_WORD_LENGTH:
            condition &= Q(search_name__contains=folded)
            continue
        condition &= Q(search_name__trigram_word_similar=folded)
        rank = rank + TrigramStrictWordSimilarity(folded, "search_name")
    database = router.db_for_read(Patient)
    found = Patient.objects.using(database).filter(condition)
    if not include_archived:
        found = found.filter(archived_at__isnull=True)
    found = found.annotate(
        word_rank=rank, name_rank=TrigramSimilarity("search_name", _folded(Value(text)))
    ).order_by("-word_rank", "-name_rank", Lower("family_name"), Lower("given_name"), "id")
    # No savepoint: a request already inside a transaction keeps the setting to its end, which nothing
    # else reads; set_config(..., true) never outlives the transaction, so a pooled connection (PgBouncer
    # in transaction mode) goes back with the default.
    with transaction.atomic(using=database, savepoint=False), connections[database].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(CLOSE_MATCH_THRESHOLD)]
        )
        return list(found[:limit] if limit else found)


# --- search as fixed SQL -----------------------------------------------------------------------------
# The search box's usual lookups (a chart number, a date of birth, the words of a name) run as constant SQL
# through a cursor, not a queryset: their SQL takes well under a millisecond on the indexes, and Django
# compiling the queryset took 3 to 13 ms of every call (docs/benchmarks.md, issue 17). The conditions are
# search_condition()'s, written out once: tests/patients/test_search_fixed_sql.py runs both on the same
# patients and holds them to the same answer, and each new plan to its index.
_PATIENT_FIELDS = Patient._meta.concrete_fields
_PATIENT_ATTNAMES = [field.attname for field in _PATIENT_FIELDS]
# What the ORM would do to each value read (the phones stay text until first read: PatientPhoneField).
_PATIENT_CONVERTERS = [
    (index, field.from_db_value)
    for index, field in enumerate(_PATIENT_FIELDS)
    if hasattr(field, "from_db_value")
]
# The attributes Model.__init__ sets through a descriptor of their own (the phones' descriptor, the
# created_by_id of a foreign key): _patients_from_sql() sets these through it as well.
_PATIENT_SET_THROUGH_DESCRIPTORS = [
    (index, attname)
    for index, attname in enumerate(_PATIENT_ATTNAMES)
    if hasattr(type(Patient.__dict__.get(attname)), "__set__")
]
# Django's own Model.__init__ and from_db(), which _patients_from_sql() does the work of: were Patient ever to
# override either, it would build each patient through from_db() instead.
_PATIENT_INIT_IS_DJANGOS = (
    Patient.__init__ is Model.__init__ and Patient.from_db.__func__ is Model.from_db.__func__
)
# The moments (created_at, archived_at) are read as `timestamp` at UTC rather than as `timestamptz`: psycopg
# reads a timestamp in C, while Django reads every timestamptz through a Python loader of its own (to give
# it the connection's time zone), which took a sixth of a search by date of birth (issue 17). Each becomes
# the same aware datetime again in _patients_from_sql(): at UTC, then in the connection's time zone, as
# Django's loader gives it. AT TIME ZONE 'UTC' keeps every microsecond.
_PATIENT_MOMENTS = [
    index for index, field in enumerate(_PATIENT_FIELDS) if field.get_internal_type() == "DateTimeField"
]
_PATIENT_SELECT = "SELECT {} FROM patients_patient WHERE ".format(  # noqa: S608 - the model's own columns
    ", ".join(
        f"patients_patient.{field.column} AT TIME ZONE 'UTC'"
        if index in _PATIENT_MOMENTS
        else f"patients_patient.{field.column}"
        for index, field in enumerate(_PATIENT_FIELDS)
    )
)
# The order and limit of the search (a NULL limit is no limit); _by_digits says why by lower().
_IN_NAME_ORDER = " ORDER BY lower(family_name), lower(given_name), id LIMIT %s"
_NOT_ARCHIVED = " AND archived_at IS NULL"
_BY_CHART_NUMBER = "chart_number = %s"
_BY_DATE_OF_BIRTH = "date_of_birth = %s"
# One typed word held by the folded name, as Django's `contains` writes it: the folded word's \ % and _
# escaped so that they match themselves, then LIKE '%word%', which the trigram index (patient_name_trgm)
# serves; patients_fold() of a constant is folded by the planner before the index is chosen.
_HOLDS_TYPED_WORD = (
    "LIKE '%%' || REPLACE(REPLACE(REPLACE(patients_fold(%s), E'\\\\', E'\\\\\\\\'), "
    "E'%%', E'\\\\%%'), E'_', E'\\\\_') || '%%'"
)
# The same word, first widened to the name words that hold it (patients_name_word, kept by the triggers of
# migration 0009, searched by its own trigram index), then looked up on the GIN index of each patient's
# words: one posting list per name word rather than one per trigram of the typed word, over the whole
# table. A name holds a typed word exactly when one of its words does (split on spaces, the folded word
# has none), so the same patients are found; strpos() checks it again on each row (the same test as the
# escaped LIKE, which the planner would also want to serve from the trigram index, reading it for
# nothing). A folded word shorter than three characters (no trigram to search the words by; it would widen
# to most words) or with a space in it (unaccent folds a few characters, such as 1/2, to text with a
# space) keeps the LIKE alone, as before. The CASE's test is a constant: the planner works it out and
# keeps only the branch taken. (Constant text throughout: the typed words are parameters.)
_NAME_HOLDS_WORD = (
    "CASE WHEN length(patients_fold(%s)) >= 3 AND strpos(patients_fold(%s), ' ') = 0 "  # noqa: S608
    "THEN string_to_array(search_name, ' ') && ARRAY(SELECT word FROM patients_name_word "
    "WHERE word " + _HOLDS_TYPED_WORD + ") AND strpos(search_name, patients_fold(%s)) > 0 "
    "ELSE search_name " + _HOLDS_TYPED_WORD + " END"
)
_PARAMETERS_PER_WORD = _NAME_HOLDS_WORD.count("%s")
# One word typed alone, current patients only, up to a limit (the box as the front desk types a surname):
# the word can match tens of thousands of patients, of whom the box shows the first 25 by name. The
# postings (patients_name_posting, migration 0009) hold each current patient's name words beside the
# search's order, lower(family_name), lower(given_name), id; so each name word holding the typed word gives
# its first `limit` patients straight from the b-tree, and the first `limit` of those, distinct, are the
# first `limit` of all. strpos() checks each again, as above; a short word keeps the LIKE.
_ONE_WORD_IN_NAME_ORDER = (
    _PATIENT_SELECT  # noqa: S608 - constant text, the typed word and limit are parameters
    + "CASE WHEN length(patients_fold(%(word)s)) >= 3 AND strpos(patients_fold(%(word)s), ' ') = 0 "
    "THEN patients_patient.id = ANY(ARRAY(SELECT firsts.patient_id FROM ("
    "SELECT DISTINCT posting.family, posting.given, posting.patient_id FROM patients_name_word, LATERAL ("
    "SELECT family, given, patient_id FROM patients_name_posting WHERE patients_name_posting.word = "
    "patients_name_word.word ORDER BY family, given, patient_id LIMIT %(limit)s) AS posting "
    "WHERE patients_name_word.word " + _HOLDS_TYPED_WORD.replace("%s", "%(word)s") + " "
    "ORDER BY 1, 2, 3 LIMIT %(limit)s) AS firsts)) AND strpos(search_name, patients_fold(%(word)s)) > 0 "
    "ELSE search_name "
    + _HOLDS_TYPED_WORD.replace("%s", "%(word)s")
    + " END"
    + _NOT_ARCHIVED
    + _IN_NAME_ORDER.replace("%s", "%(limit)s")
)


def _search_sql(condition, include_archived):
    return _PATIENT_SELECT + condition + ("" if include_archived else _NOT_ARCHIVED) + _IN_NAME_ORDER


_SEARCH_SQL = {
    (kind, include_archived): _search_sql(condition, include_archived)
    for kind, condition in (("chart", _BY_CHART_NUMBER), ("born", _BY_DATE_OF_BIRTH))
    for include_archived in (False, True)
}
# One statement per number of words (at most 50 in the 100 characters the box keeps), made on first use.
_NAME_SQL = {}


def _patients_from_sql(sql, params):
    """The patients a fixed search statement reads, each the object the ORM would build (Model.from_db).

    Built without going through Model.__init__: at 25 patients its setattr() of each of 23 fields, one by
    one, took a third of a search by date of birth (issue 17). The result is the same object: every value
    lands in __dict__, in field order, as __init__'s setattr() puts a plain value; what __init__ sets
    through a descriptor is then set through it here too; the state is from_db()'s (not adding, this
    database). The moments are read at UTC (_PATIENT_MOMENTS) and given the connection's time zone here.
    tests/patients/test_search_fixed_sql.py compares each attribute, and its type, with the ORM's object.
    __init__ also sends pre_init and post_init: while anything listens for them on Patient (or should
    Patient override __init__ or from_db), each patient is built by from_db() itself, as before."""
    database = router.db_for_read(Patient)
    connection = connections[database]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    zone = connection.timezone
    through_init = (
        not _PATIENT_INIT_IS_DJANGOS or pre_init.has_listeners(Patient) or post_init.has_listeners(Patient)
    )
    patients = []
    for row in rows:
        values = list(row)
        for index in _PATIENT_MOMENTS:
            if values[index] is not None:
                values[index] = values[index].replace(tzinfo=UTC).astimezone(zone)
        for index, convert in _PATIENT_CONVERTERS:
            values[index] = convert(values[index], None, connection)
        if through_init:
            patients.append(Patient.from_db(database, _PATIENT_ATTNAMES, values))
            continue
        patient = Patient.__new__(Patient)
        patient._state = state = ModelState()
        state.adding = False
        state.db = database
        patient.__dict__.update(zip(_PATIENT_ATTNAMES, values, strict=True))
        for index, attname in _PATIENT_SET_THROUGH_DESCRIPTORS:
            setattr(patient, attname, values[index])
        patients.append(patient)
    return patients


def _by_name_words(words, *, include_archived, limit):
    """Patients whose folded name holds every word (search_condition's words), in name order: one word for
    current patients up to a limit from the postings (_ONE_WORD_IN_NAME_ORDER), anything else through the
    words' GIN index (_NAME_HOLDS_WORD). tests/patients/test_search_name_words.py holds both to the LIKE
    they replaced."""
    if len(words) == 1 and limit and not include_archived:
        return _patients_from_sql(_ONE_WORD_IN_NAME_ORDER, {"word": words[0], "limit": limit})
    key = (len(words), include_archived)
    sql = _NAME_SQL.get(key)
    if sql is None:
        sql = _NAME_SQL[key] = _search_sql(" AND ".join([_NAME_HOLDS_WORD] * len(words)), include_archived)
    params = [word for word in words for _ in range(_PARAMETERS_PER_WORD)]
    return _patients_from_sql(sql, [*params, limit or None])


def find_patients(text, *, include_archived=False, limit=SEARCH_LIMIT):
    """What the search box's text finds (see search_condition), archived patients only on request. One
    query; a second, by trigram similarity (_close_matches), only when the text is a name that no
    patient's name holds as typed. Refuses nothing: a date that cannot be read one way says why in
    `problem`. A date, a chart number or a name is read by fixed SQL (above); digits by search_condition's
    queryset (a PHN, a phone or its last digits, a chart number typed as digits)."""
    text = _clean_search_text(text)
    if not text:
        return PatientSearch([])
    if looks_like_a_date(text):
        try:
            born = parse_date_of_birth(text)
        except ValidationError as refused:
            return PatientSearch([], problem=refused.messages[0])
        return PatientSearch(_patients_from_sql(_SEARCH_SQL["born", include_archived], [born, limit or None]))
    if CHART_NUMBER.match(text):
        chart = f"C{int(text[1:]):06d}"
        return PatientSearch(
            _patients_from_sql(_SEARCH_SQL["chart", include_archived], [chart, limit or None])
        )
    if PHONE_LIKE.match(text):
        return PatientSearch(_by_digits(text, include_archived=include_archived, limit=limit))
    patients = _by_name_words(text.split(" "), include_archived=include_archived, limit=limit)
    if patients:
        return PatientSearch(patients)
    close = _close_matches(text, include_archived=include_archived, limit=limit)
    return PatientSearch(close, close_matches=bool(close))


def _by_digits(text, *, include_archived, limit):
    """What digits typed in the box find (search_condition's phone branch), in name order."""
    condition = search_condition(text)
    if condition is None:
        return []
    found = Patient.objects.filter(condition)
    if not include_archived:
        found = found.filter(archived_at__isnull=True)
    # Ordered by an expression no b-tree serves, on purpose: ordered by the plain columns, the planner
    # walks the (family, given) index hoping to meet 25 matches early, which for a name late in the
    # alphabet reads most of the table (bench/patients_search.py). This way the trigram index finds the
    # matches and a top-25 sort orders them.
    found = found.order_by(Lower("family_name"), Lower("given_name"), "id")
    return list(found[:limit] if limit else found)


def search_patients(text, *, include_archived=False, limit=SEARCH_LIMIT):
    """The patients find_patients() finds for the search box's text (the booking form's picker, imports)."""
    return find_patients(text, include_archived=include_archived, limit=limit).patients


# --- screening ----------------------------------------------------------------------------------------
def months_before(moment, months):
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def screening_cutoff(now=None):
    """Screenings answered before this moment are due again (settings.SCREENING_VALID_MONTHS)."""
    now = now or timezone.now()
    return months_before(now, settings.SCREENING_VALID_MONTHS)


def screening_is_due(screening, now=None):
    """True when there is no screening, or it is older than SCREENING_VALID_MONTHS."""
    return screening is None or screening.answered_at < screening_cutoff(now)


def latest_screening(patient, at=None):
    """The patient's most recent screening (answered by `at`, when given), or None. Fixed SQL
    (patients/selectors.py): the session screen asks it on every view."""
    found = screenings_of(patient, at=at, limit=1)
    return found[0] if found else None


def latest_screenings(patients):
    """{patient_id: latest Screening} for the given patients (objects or ids), in one query."""
    ids = [getattr(p, "pk", p) for p in patients]
    if not ids:
        return {}
    rows = (
        Screening.objects.filter(patient_id__in=ids)
        .order_by("patient_id", "-answered_at", "-id")
        .distinct("patient_id")
    )
    return {row.patient_id: row for row in rows}


def screening_flags(patients):
    """{patient_id: [labels of the items answered yes in the latest screening]} in one statement
    (latest_screening_findings()); every patient given has an entry (an empty list when nothing was found
    or no screening exists)."""
    latest = latest_screening_findings(patients)
    return {
        getattr(p, "pk", p): (latest[getattr(p, "pk", p)].flags if getattr(p, "pk", p) in latest else [])
        for p in patients
    }


# --- what a screening means for needling ----------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """An item answered yes on a screening, with what the clinic's rule makes of it."""

    item: str
    label: str
    note: str
    kind: str  # FindingKind
    applies_to: str  # AppliesTo
    reason: str
    regions: tuple
    side: str
    site_label: str
    answered_at: object

    @property
    def is_contraindication(self):
        return self.kind == FindingKind.CONTRAINDICATION

    def covers(self, *, body_region, risk_region, side):
        """Does this finding reach a point in `body_region` (risk region, side L / R / B)? The same
        definition as the database's patients_finding_covers() (migration 0004)."""
        if self.applies_to == AppliesTo.NECK_AND_MID_BACK:
            return risk_region in ("neck", "mid_back")
        if self.applies_to == AppliesTo.NAMED_SITE and self.regions:
            return body_region in self.regions and (self.side in ("", "B") or side in ("B", self.side))
        return True

    @property
    def where(self):
        """Where the finding applies, in words: "every point", "the calf, right", ..."""
        if self.applies_to == AppliesTo.NECK_AND_MID_BACK:
            return "neck and mid back points"
        if self.applies_to == AppliesTo.NAMED_SITE:
            if not self.regions:
                return "every point (no site named)"
            return f"at the site: {self.site_label.lower()}"
        return "every point"

    @property
    def described(self):
        """ "Infection at the site (Cellulitis right calf)": the item and the note the clinician wrote."""
        return f"{self.label} ({self.note})" if self.note else self.label


def screening_rules():
    """{item: ScreeningRule}: what the clinic makes of each screening item (one query)."""
    return {rule.item: rule for rule in ScreeningRule.objects.all()}


def findings(screening, rules=None):
    """The items answered yes on `screening`, each with its rule (an item without a rule counts as a
    precaution on every point), contraindications first. Empty for no screening."""
    if screening is None or not any(getattr(screening, key) for key, _label in SCREENING_ITEMS):
        return []  # nothing answered yes: no rule to read (one query less for most sessions)
    rules = screening_rules() if rules is None else rules
    found = []
    for key, _label in SCREENING_ITEMS:
        if not getattr(screening, key):
            continue
        rule = rules.get(key)
        regions, side = screening.site_of(key)
        rule = (rule.kind, rule.applies_to, rule.reason) if rule else None
        found.append(
            _finding(key, getattr(screening, f"{key}_note"), regions, side, rule, screening.answered_at)
        )
    return sorted(found, key=lambda f: not f.is_contraindication)


def _finding(key, note, regions, side, rule, answered_at):
    """The Finding of item `key` answered yes, under `rule` ((kind, applies_to, reason), or None: an item
    without a rule counts as a precaution on every point)."""
    kind, applies_to, reason = rule or (FindingKind.PRECAUTION, AppliesTo.ALL_POINTS, "")
    return Finding(
        item=key,
        label=SCREENING_LABELS[key],
        note=note,
        kind=kind,
        applies_to=applies_to,
        reason=reason,
        regions=regions,
        side=side,
        site_label=describe_site(regions, side),
        answered_at=answered_at,
    )


@dataclass(frozen=True)
class LatestScreening:
    """A patient's latest screening as lists of patients show it (badges, flags), in plain values: when it
    was answered, its findings as findings() gives them (contraindications first), and the labels of its
    items answered yes in checklist order (Screening.flags)."""

    answered_at: object
    findings: list
    flags: list

    @classmethod
    def of(cls, screening, rules=None):
        """The same from a Screening already read (the chart has it)."""
        return cls(screening.answered_at, findings(screening, rules), screening.flags)


# Each patient's latest screening (the newest answered_at, then id, as latest_screenings()) with each of
# its items answered yes and the clinic's rule for it (one row of NULL items for a screening with none).
# The items answered yes come from the view patients_screening_finding (patients migration 0004), the
# definition treatments' point trigger reads too. Raw for speed (issue 17): the list pages (search, My
# day) read whole Screening rows through the ORM, and the rules in a second query, for a fifth of the
# badges' time. tests/patients/test_screening_sql.py holds it to latest_screenings() and findings().
LATEST_FINDINGS_SQL = """
SELECT s.patient_id, s.answered_at, f.item, f.note, f.regions, f.side, r.kind, r.applies_to, r.reason
  FROM (SELECT DISTINCT ON (patient_id) id, patient_id, answered_at
          FROM patients_screening
         WHERE patient_id = ANY(%s)
         ORDER BY patient_id, answered_at DESC, id DESC) AS s
  LEFT JOIN patients_screening_finding f ON f.screening_id = s.id
  LEFT JOIN patients_screeningrule r ON r.item = f.item
"""
# Checklist order, in which Screening.flags and findings() give the items.
_CHECKLIST_ORDER = {key: position for position, (key, _label) in enumerate(SCREENING_ITEMS)}


def latest_screening_findings(patients):
    """{patient_id: LatestScreening} for those of the given patients (objects or ids) who have a screening,
    in one fixed statement (LATEST_FINDINGS_SQL) whatever their number: the same findings and flags as
    findings(latest_screening) and Screening.flags, read as plain values."""
    ids = [getattr(p, "pk", p) for p in patients]
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(LATEST_FINDINGS_SQL, [ids])
        rows = cursor.fetchall()
    found = {}
    for patient_id, answered_at, key, note, regions, side, kind, applies_to, reason in rows:
        items = found.setdefault(patient_id, (answered_at, []))[1]
        if key is not None:
            rule = (kind, applies_to, reason) if kind is not None else None
            items.append(_finding(key, note, tuple(regions or ()), side, rule, answered_at))
    latest = {}
    for pk, (answered_at, items) in found.items():
        items.sort(key=lambda f: _CHECKLIST_ORDER[f.item])
        latest[pk] = LatestScreening(
            answered_at,
            sorted(items, key=lambda f: not f.is_contraindication),
            [item.label for item in items],
        )
    return latest


def pneumothorax_questions_unasked(screening):
    """Labels of the pneumothorax risk factors a screening recorded before they were asked never
    answered (LATER_ITEMS): a neck or mid back point waits for a new screening."""
    if screening is None:
        return []
    return [SCREENING_LABELS[key] for key in LATER_ITEMS if getattr(screening, key) is None]


def record_screening(screening, *, request):
    """Save a new screening for a patient and audit it; earlier screenings stay as history."""
    screening.answered_by = request.user
    screening.answered_at = timezone.now()
    positive = [key for key, _label in SCREENING_ITEMS if getattr(screening, key)]
    with audited_transaction():
        screening.save()
        record(
            Action.CREATE,
            request=request,
            obj=screening,
            patient_id=screening.patient_id,
            detail=f"screening with {len(positive)} positive item(s)",
        )
    return screening


# --- many at once (imports) ---------------------------------------------------------------------------
def match_registered(candidates):
    """For many would-be patients at once (an import), the patient already registered as each: the same
    PHN, or the same given and family names (case and accents ignored, as possible_duplicates() compares
    them) and date of birth. `candidates` are (given_name, family_name, date_of_birth, phn) tuples; returns
    a list, in their order, of (patient id or None, folded given name, folded family name). One query."""
    if not candidates:
        return []
    given, family, born, phn = (list(column) for column in zip(*candidates, strict=True))
    # Each candidate's names folded once; the name lookup is served by patient_dob_folded_names_idx.
    sql = """
        WITH c AS MATERIALIZED (
            SELECT i, patients_fold(btrim(given)) AS given, patients_fold(btrim(family)) AS family, born, phn
            FROM unnest(%s::int[], %s::text[], %s::text[], %s::date[], %s::text[])
                 AS u(i, given, family, born, phn)
        )
        SELECT c.i, c.given, c.family,
               coalesce(
                   -- p.phn <> '' lets the partial unique index on phn (patient_phn_unique) serve it; it
                   -- holds each PHN once, so no LIMIT (which invites a plan that reads rows until one fits).
                   (SELECT p.id FROM patients_patient p WHERE p.phn <> '' AND p.phn = c.phn),
                   -- Every patient of that name and birth date, the first chart kept: an aggregate rather
                   -- than ORDER BY chart_number LIMIT 1, which the planner may serve by walking the chart
                   -- number index from its start for every candidate (a quadratic plan).
                   (SELECT (array_agg(p.id ORDER BY p.chart_number))[1] FROM patients_patient p
                    WHERE p.date_of_birth = c.born
                      AND patients_fold(p.given_name) = c.given
                      AND patients_fold(p.family_name) = c.family))
        FROM c
        ORDER BY c.i
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(range(len(candidates))), given, family, born, [p or "" for p in phn]])
        return [
            (pk, folded_given, folded_family) for _i, folded_given, folded_family, pk in cursor.fetchall()
        ]


# Fields the database fills (chart number, search columns) or the service sets; the phones are checked
# apart (phone_is_valid: the same rule, without parsing the numbers again).
BULK_EXCLUDE = ["chart_number", "created_by", "search_name", "phone_digits"]
PHONE_FIELDS = ("phone", "phone_alternate", "emergency_contact_phone")
# What COPY writes; the database fills the rest (chart number from its sequence, the search columns by
# trigger).
BULK_COLUMNS = [
    "id", "given_name", "family_name", "preferred_name", "date_of_birth", "sex", "gender", "phone",
    "phone_alternate", "email", "address", "phn", "emergency_contact_name", "emergency_contact_phone",
    "emergency_contact_relationship", "referral_source", "created_at", "created_by_id",
]  # fmt: skip


# What an importing app's staging table holds for each row beside its batch and line (register_from_staging).
STAGED_COLUMNS = [c for c in BULK_COLUMNS if c not in ("id", "created_at", "created_by_id")]


def register_from_staging(table, batch_id, lines, *, by, detail):
    """Register a patient from each row of an import's staging table (`table`: columns batch_id, line and
    STAGED_COLUMNS) of batch `batch_id` on `lines`, with one INSERT ... SELECT, and one audit event as
    register_patients_in_bulk writes; inside the caller's audited_transaction(). Returns {line: patient id}
    (a line with no staged row is missing from it: the caller refuses). The importer checked the values as
    the model checks its fields, and matched the rows against the registry (match_registered); the
    database's rules hold as for any insert (its constraints, the chart number sequence, the search
    columns' trigger). The rows are read alone (batch and lines), so the plan needs no statistics."""
    if not lines:
        return {}
    named = ", ".join(STAGED_COLUMNS)
    with connection.cursor() as cursor:
        # Ids drawn in line order (nextval over the sorted rows), so chart numbers follow the file too.
        cursor.execute(
            """
            WITH chosen AS MATERIALIZED (
                SELECT sorted.*, nextval(pg_get_serial_sequence('patients_patient', 'id')) AS new_id
                FROM (SELECT line, <columns> FROM <table>
                      WHERE batch_id = %s AND line = ANY(%s::int[]) ORDER BY line) AS sorted
            ), written AS (
                INSERT INTO patients_patient (id, <columns>, created_at, created_by_id)
                SELECT new_id, <columns>, %s, %s FROM chosen ORDER BY line
            )
            SELECT line, new_id FROM chosen
            """.replace("<columns>", named).replace("<table>", connection.ops.quote_name(table)),
            [batch_id, list(lines), timezone.now(), by.pk],
        )
        created = dict(cursor.fetchall())
    record(
        Action.CREATE,
        user=by,
        object_type="patients.patient",
        object_id="bulk",
        detail=f"{len(created)} patients registered at once: {detail}",
    )
    return created


def phone_is_valid(number):
    """PhoneNumberField's rule (phonenumbers' is_valid_number), asking the clinic's region first: the full
    check walks every region sharing the country code (25 for +1), four times slower."""
    return phonenumbers.is_valid_number_for_region(
        number, settings.PHONENUMBER_DEFAULT_REGION
    ) or phonenumbers.is_valid_number(number)


def register_patients_in_bulk(patients, *, by, detail):
    """Save many new patients at once (an import) with one audit event, inside the caller's
    audited_transaction(); returns them with their ids and chart numbers. Written with one COPY rather than
    batches of INSERTs (bench/interop_import.py), and the database's rules hold as for any insert (its
    constraints, the chart number sequence, the search columns' trigger).

    Refuses (ValidationError naming the patient) any whose fields do not validate as the model's do, and
    any already registered (match_registered) or registered twice in the list: an import matches those to
    the existing record instead of creating them."""
    for patient in patients:
        try:
            patient.clean_fields(exclude=BULK_EXCLUDE + list(PHONE_FIELDS))
            for name in PHONE_FIELDS:
                value = getattr(patient, name)
                if value in (None, ""):
                    continue
                if not _is_number(value):
                    # Text, as a form would hand it over: read the way PhoneNumberField reads it.
                    value = phone_to_python(value)
                    setattr(patient, name, value)
                if not _is_number(value) or not phone_is_valid(value):
                    shown = value.raw_input or value.national_number if _is_number(value) else value
                    raise ValidationError(f"{shown} is not a valid phone number.")
        except ValidationError as error:
            raise ValidationError(
                f"{patient.given_name} {patient.family_name}: {'; '.join(error.messages)}"
            ) from None
    seen = set()
    for patient, (existing, given, family) in zip(
        patients,
        match_registered([(p.given_name, p.family_name, p.date_of_birth, p.phn) for p in patients]),
        strict=True,
    ):
        key = (given, family, patient.date_of_birth)
        if existing is not None or key in seen or (patient.phn and patient.phn in seen):
            raise ValidationError(
                f"{patient.given_name} {patient.family_name} ({patient.date_of_birth}) is already registered."
            )
        seen.update([key, patient.phn] if patient.phn else [key])
    if patients:
        _copy_patients(patients, by)
    record(
        Action.CREATE,
        user=by,
        object_type="patients.patient",
        object_id="bulk",
        detail=f"{len(patients)} patients registered at once: {detail}",
    )
    return patients


def _is_number(value):
    return isinstance(value, phonenumbers.PhoneNumber)


def _e164(value):
    """A phone as stored, without PhoneNumber's str(), which checks validity again (already checked)."""
    return phonenumbers.format_number(value, phonenumbers.PhoneNumberFormat.E164) if _is_number(value) else ""


def _copy_patients(patients, by):
    now = timezone.now()
    with connection.cursor() as cursor:
        # Ids drawn from the table's own sequence, so the rows and the objects agree without a round trip
        # per row.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('patients_patient', 'id')) FROM generate_series(1, %s)",
            [len(patients)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        # COPY goes to psycopg's cursor directly; wrap_database_errors turns its errors into Django's
        # (IntegrityError), as for any other query, so callers catch a constraint's refusal as usual.
        copying = cursor.cursor.copy(f"COPY patients_patient ({', '.join(BULK_COLUMNS)}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for pk, patient in zip(ids, patients, strict=True):
                patient.pk, patient.created_by, patient.created_at = pk, by, now
                copy.write_row(
                    [
                        pk, patient.given_name, patient.family_name, patient.preferred_name,
                        patient.date_of_birth, patient.sex, patient.gender, _e164(patient.phone),
                        _e164(patient.phone_alternate), patient.email, patient.address, patient.phn,
                        patient.emergency_contact_name, _e164(patient.emergency_contact_phone),
                        patient.emergency_contact_relationship, patient.referral_source, now, by.pk,
                    ]
                )  # fmt: skip
        cursor.execute("SELECT id, chart_number FROM patients_patient WHERE id = ANY(%s)", [ids])
        numbers = dict(cursor.fetchall())
    for patient in patients:
        patient.chart_number = numbers[patient.pk]
        patient._state.adding = False
        patient._state.db = connection.alias
