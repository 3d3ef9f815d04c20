"""The import of a Jane or Cliniko export: a dry run that says what would happen to every row, and the same
plan carried out when the administrator confirms (services.confirm_import).

Every patient row is refused (with its reason), already imported (its source id is on file), matched to a
patient already registered (patients.services.match_registered: same PHN, or same name and date of birth)
or to an earlier row of the file, or created. Every appointment row is refused, already imported, or
booked with the patient its row names (by the patient's id in the source system) and the physiotherapist
whose name or e-mail it gives, under the booking rules (appointments.services.imports.clashes_among).

The dry run reads and checks each patient row once and stages it (StagedPatient); the confirmation matches
the staged rows against the registry again and writes the new patients from them in one INSERT ... SELECT
(services.confirm_import), so a 100,000-row file imports in under a minute (docs/benchmarks.md).
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from appointments.models import MAX_LENGTH, Appointment, AppointmentType, Location, Status
from appointments.services.imports import Booking, clashes_among
from patients.services import match_registered
from patients.validators import OLDEST_AGE_YEARS, validate_date_of_birth, validate_phn

from . import parsing
from .csvfiles import read_table
from .layouts import APPOINTMENT_FIELDS, FIELDS, IGNORE, PATIENT_FIELDS, unknown_columns
from .models import ImportedRecord, RecordKind, StagedPatient

SHOWN = 1000  # refusals and warnings kept for the page; the counts hold them all
SAME_PERSON = "the same person as row"  # the one warning the matching gives (the others, the reading)


@dataclass
class Outcome:
    """What a dry run found (or an import did): counts, and each refusal and warning with its row."""

    source_system: str
    patients: dict = field(
        default_factory=lambda: {"rows": 0, "create": 0, "match": 0, "already": 0, "refuse": 0}
    )
    appointments: dict = field(default_factory=lambda: {"rows": 0, "create": 0, "already": 0, "refuse": 0})
    refusals: list = field(default_factory=list)  # [file, row, source id, reason]
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)  # {file: [labels of required fields no column gives]}
    unknown_columns: dict = field(default_factory=dict)  # {file: [headers]}
    unknown_types: dict = field(default_factory=dict)  # {name: rows}
    imported: bool = False

    def refuse(self, kind, row, source_id, reason):
        getattr(self, kind)["refuse"] += 1
        if len(self.refusals) < SHOWN:
            self.refusals.append([kind, row, source_id, reason])

    def warn(self, kind, row, source_id, message):
        if len(self.warnings) < SHOWN:
            self.warnings.append([kind, row, source_id, message])

    @property
    def can_import(self):
        return (
            not any(self.missing.values())
            and (self.patients["create"] + self.patients["match"] + self.appointments["create"]) > 0
        )

    def as_json(self):
        return {key: getattr(self, key) for key in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data):
        return (
            cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}) if data else None
        )

    def summary(self):
        p, a = self.patients, self.appointments
        text = (
            f"patients: {p['create']} created, {p['match']} matched, {p['already']} already imported, "
            f"{p['refuse']} refused"
        )
        if a["rows"]:
            text += (
                f"; appointments: {a['create']} created, {a['already']} already imported, "
                f"{a['refuse']} refused"
            )
        return text


@dataclass
class Plan:
    """What confirming would write: patients to create, links of rows to patients, appointments to book."""

    outcome: Outcome
    new_patients: list = field(default_factory=list)  # [(row, source id)] of staged rows to create
    links: list = field(default_factory=list)  # [(row, source id, patient id or ("new", row))]
    new_appointments: list = field(default_factory=list)  # [(row, source id, Appointment, patient ref)]
    refused_patients: dict = field(default_factory=dict)  # {source id: row} of refused patient rows


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def _columns(table, mapping):
    """{field: column index} from {header: field}."""
    positions = {}
    for index, name in enumerate(table.header):
        target = mapping.get(name, IGNORE)
        if target and target not in positions:
            positions[target] = index
    return positions


def _missing(positions, fields, extra_ok=()):
    return [
        label for key, label, required in fields if required and key not in positions and key not in extra_ok
    ]


class Row:
    """One data row read through the mapping: row["given_name"] is its cell (or "")."""

    def __init__(self, line, cells, positions):
        self.line, self.cells, self.positions = line, cells, positions

    def __getitem__(self, key):
        index = self.positions.get(key)
        return self.cells[index] if index is not None and index < len(self.cells) else ""


# --- patients -----------------------------------------------------------------------------------------------
# A patient row's values as staged (StagedPatient) and then written to patients_patient, in this order.
STAGED_FIELDS = [
    "given_name", "family_name", "preferred_name", "date_of_birth", "sex", "gender", "phone",
    "phone_alternate", "email", "address", "phn", "emergency_contact_name", "emergency_contact_phone",
    "emergency_contact_relationship", "referral_source",
]  # fmt: skip
REFUSED_VALUES = ["", "", "", None, "", "", "", "", "", "", "", "", "", "", ""]


def _address(row):
    city_line = " ".join(
        part
        for part in (", ".join(p for p in (row["city"], row["province"]) if p), row["postal_code"])
        if part
    )
    lines = [row["address_1"], row["address_2"], row["address_3"], city_line, row["country"]]
    return "\n".join(line for line in lines if line)


def _limited(value, limit, label, warnings):
    if len(value) > limit:
        warnings.append(f"{label} cut to {limit} characters")
        return value[:limit]
    return value


class Births:
    """The date of birth rule (patients.validators.validate_date_of_birth) for many rows: a date surely
    inside its bounds is passed without asking the validator, which reads the clock and the time zone
    each time (a fifth of a 100,000-row dry run, profiled); any other date goes to the validator itself."""

    def __init__(self):
        self.today = timezone.localdate()
        self.surely_after = date(self.today.year - OLDEST_AGE_YEARS + 1, 1, 1)

    def check(self, born):
        if not self.surely_after <= born <= self.today:
            validate_date_of_birth(born)


def _e164(number):
    """A phone as the patient's PhoneNumberField stores it (E.164), for a number already found valid."""
    if number.country_code == 1:
        return f"+1{number.national_number}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_patient(row, options, births=None):
    """(values in STAGED_FIELDS order, warnings) for one row, or raises parsing.Unreadable with the reason
    it is refused. Each value is checked as the Patient model checks it (PHN, date of birth, phones,
    e-mail, lengths), so the staged row can be written as it stands."""
    warnings = []
    given, family = row["given_name"], row["family_name"]
    if not given or not family:
        raise parsing.Unreadable("missing name: " + ("no given name" if not given else "no family name"))
    if len(given) > 100 or len(family) > 100:
        raise parsing.Unreadable("a name longer than 100 characters")
    if not row["date_of_birth"]:
        raise parsing.Unreadable("no date of birth")
    try:
        born = parsing.parse_date(row["date_of_birth"], options.get("date_order", "auto"))
    except parsing.Unreadable as error:
        raise parsing.Unreadable(f"unparseable date of birth: {error}") from None
    try:
        (births or Births()).check(born)
    except ValidationError as error:
        raise parsing.Unreadable(error.messages[0]) from None
    phn = parsing.phn_digits(row["phn"])
    if phn:
        try:
            validate_phn(phn)
        except ValidationError as error:
            code = "invalid PHN check digit" if error.code == "phn_check_digit" else "invalid PHN"
            raise parsing.Unreadable(f"{code} ({row['phn']}): {error.messages[0]}") from None
    phones = []
    for key in ("phone_mobile", "phone_home", "phone_work"):
        if row[key]:
            number = parsing.parse_phone(row[key])
            if number is None:
                warnings.append(f"phone \u201c{row[key]}\u201d left out: not a valid number")
            elif all(
                (number.country_code, number.national_number) != (p.country_code, p.national_number)
                for p in phones
            ):
                phones.append(number)
    if len(phones) > 2:
        warnings.append(f"phone {row['phone_work']} left out: a patient holds two numbers")
    email = row["email"]
    if email and not parsing.valid_email(email):
        warnings.append(f"e-mail \u201c{email}\u201d left out: not a valid address")
        email = ""
    emergency_phone = ""
    if row["emergency_contact_phone"]:
        number = parsing.parse_phone(row["emergency_contact_phone"])
        if number is None:
            warnings.append("emergency contact phone left out: not a valid number")
        else:
            emergency_phone = _e164(number)
    values = [
        given,
        family,
        _limited(row["preferred_name"], 100, "preferred name", warnings),
        born,
        parsing.parse_sex(row["sex"]),
        _limited(row["gender"], 60, "gender identity", warnings),
        _e164(phones[0]) if phones else "",
        _e164(phones[1]) if len(phones) > 1 else "",
        email,
        _limited(_address(row), 500, "address", warnings),
        phn,
        _limited(row["emergency_contact_name"], 150, "emergency contact", warnings),
        emergency_phone,
        _limited(row["emergency_contact_relationship"], 60, "relationship", warnings),
        _limited(row["referral_source"], 150, "referral source", warnings),
    ]
    return values, warnings


def stage_patients(table, mapping, options, system, batch, outcome):
    """Read and check every row of the patient file, and keep each as a StagedPatient of the batch (its
    values, or why it is refused), replacing what an earlier dry run staged. Counts the rows and the
    refusals in `outcome`, with each refusal's and warning's reason. Writes nothing else."""
    StagedPatient.objects.filter(batch=batch).delete()
    positions = _columns(table, mapping)
    outcome.missing["patients"] = _missing(positions, PATIENT_FIELDS)
    outcome.unknown_columns["patients"] = [
        h for h in unknown_columns(table.header, system, "patients") if not mapping.get(h)
    ]
    outcome.patients["rows"] = len(table.rows)
    if outcome.missing["patients"]:
        return
    width = len(table.header)
    births = Births()
    staged = []  # (line, source id, refusal, values)
    seen_ids = {}

    def refuse(line, source_id, reason):
        outcome.refuse("patients", line, source_id, reason)
        staged.append((line, source_id, reason, REFUSED_VALUES))

    for line, cells in table.rows:
        row = Row(line, cells, positions)
        source_id = row["source_id"]
        if len(cells) > width:
            refuse(line, source_id[:100], f"{len(cells)} cells where the header has {width} columns")
            continue
        if not source_id:
            refuse(line, "", "no id in the source system")
            continue
        if len(source_id) > 100:
            refuse(line, source_id[:40], "an id longer than 100 characters")
            continue
        if source_id in seen_ids:
            refuse(line, source_id, f"the id {source_id} is also on row {seen_ids[source_id]}")
            continue
        seen_ids[source_id] = line
        try:
            values, warnings = read_patient(row, options, births)
        except parsing.Unreadable as error:
            refuse(line, source_id, str(error))
            continue
        for message in warnings:
            outcome.warn("patients", line, source_id, message)
        staged.append((line, source_id, "", values))
    columns = ", ".join(["batch_id", "line", "source_id", "refusal", *STAGED_FIELDS])
    with connection.cursor() as cursor:
        copying = cursor.cursor.copy(f"COPY {StagedPatient._meta.db_table} ({columns}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for line, source_id, refusal, values in staged:
                copy.write_row([batch.pk, line, source_id, refusal, *values])


def imported_patients(system, source_ids):
    """{source id: patient id} of the given patient source ids already imported from `system`: one query
    of the provenance table alone, its unique index probed (or the table read once, the ids hashed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT source_id, patient_id FROM interop_importedrecord "
            "WHERE source_system = %s AND kind = %s AND source_id = ANY(%s::varchar[])",
            [system, RecordKind.PATIENT, list(source_ids)],
        )
        return dict(cursor.fetchall())


def plan_patients(batch, plan):
    """Decide each staged row's fate against the registry as it stands now: already imported (its source
    id is on file), the same person as a patient registered here (patients.services.match_registered) or
    as an earlier row of the file, or a patient to create. Fills `plan`; returns {source id: patient ref}
    (a patient id, or ("new", line) for a patient still to create) for the appointments."""
    outcome = plan.outcome
    if outcome.missing.get("patients"):
        return {}
    # The staged rows alone, then the source ids already on file looked up in the unique index: no join
    # whose plan rests on the tables' statistics. After an import, the staging table is emptied and may be
    # analyzed so (0 rows on its pages): the next batch's 100,000 rows were then taken for one, and a join
    # of them with the provenance table was planned as a nested loop over a sequential scan of it, which
    # ran for minutes (docs/benchmarks.md, "Import of a Jane export").
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT line, source_id, refusal, given_name, family_name, date_of_birth, phn "
            "FROM interop_stagedpatient WHERE batch_id = %s ORDER BY line",
            [batch.pk],
        )
        staged = cursor.fetchall()
    on_file = imported_patients(batch.source_system, [row[1] for row in staged if not row[2]])
    refs, pending = {}, []
    for line, source_id, refusal, given, family, born, phn in staged:
        already = None if refusal else on_file.get(source_id)
        if refusal:
            if source_id:
                plan.refused_patients.setdefault(source_id, line)
        elif already is not None:
            refs[source_id] = already
            outcome.patients["already"] += 1
        else:
            pending.append((line, source_id, given, family, born, phn))
    matches = match_registered([(given, family, born, phn) for _l, _s, given, family, born, phn in pending])
    first_by_key = {}
    for (line, source_id, _g, _f, born, phn), (existing, given, family) in zip(pending, matches, strict=True):
        keys = [("name", given, family, born)] + ([("phn", phn)] if phn else [])
        earlier = next((first_by_key[k] for k in keys if k in first_by_key), None)
        if existing is not None:
            refs[source_id] = existing
            plan.links.append((line, source_id, existing))
            outcome.patients["match"] += 1
        elif earlier is not None:
            earlier_line, ref = earlier
            refs[source_id] = ref
            plan.links.append((line, source_id, ref))
            outcome.patients["match"] += 1
            outcome.warn(
                "patients", line, source_id, f"{SAME_PERSON} {earlier_line}: both ids lead to one patient"
            )
        else:
            refs[source_id] = ("new", line)
            plan.new_patients.append((line, source_id))
            outcome.patients["create"] += 1
        for key in keys:
            first_by_key.setdefault(key, (line, refs[source_id]))
    return refs


# --- appointments -------------------------------------------------------------------------------------------
def _staff_key(text):
    folded = unicodedata.normalize("NFKD", text.lower())
    words = "".join(c for c in folded if not unicodedata.combining(c))
    words = [
        w
        for w in "".join(c if c.isalnum() else " " for c in words).split()
        if w not in ("dr", "mr", "mrs", "ms")
    ]
    return " ".join(words)


def practitioners():
    """{name or e-mail key: User} of the staff an appointment may name: physiotherapists (anyone else named
    is refused with their role)."""
    found = {}
    for user in User.objects.filter(is_active=True):
        found.setdefault(user.email.lower(), user)
        found.setdefault(_staff_key(user.full_name), user)
    return found


def appointment_status(row, start, system, now):
    """(status, cancel reason) from the row's status word or its cancelled / did-not-arrive / arrived
    columns; an appointment past and neither cancelled nor missed is completed."""
    label = "Jane" if system == "jane" else "Cliniko"
    word = re.sub(r"[^a-z]", "", row["status"].lower())
    cancelled = bool(row["cancelled_at"]) and parsing.parse_flag(row["cancelled_at"])
    if word in ("cancelled", "canceled", "cancellation") or word.startswith("cancel"):
        cancelled = True
    if cancelled:
        reason = (
            " ".join(part for part in (row["cancel_reason"], row["cancel_note"]) if part)
            or f"Cancelled in {label}"
        )
        return Status.CANCELLED, reason[:300]
    if word in ("noshow", "didnotarrive", "dna", "missed") or (
        row["did_not_arrive"] and parsing.parse_flag(row["did_not_arrive"])
    ):
        return Status.NO_SHOW, ""
    if word and word not in (
        "booked",
        "scheduled",
        "confirmed",
        "arrived",
        "completed",
        "checkedin",
        "attended",
        "unconfirmed",
    ):
        raise parsing.Unreadable(f"unknown status \u201c{row['status']}\u201d")
    if start <= now:
        return Status.COMPLETED, ""
    if word == "confirmed":
        return Status.CONFIRMED, ""
    return Status.BOOKED, ""


def _times(row, options, type_minutes):
    order = options.get("date_order", "auto")
    if row["start"]:
        start = parsing.parse_datetime(row["start"], order)
    elif row["date"] and row["start_time"]:
        day = parsing.parse_date(row["date"], order)
        start = parsing.aware(datetime.combine(day, parsing.parse_time(row["start_time"])))
    else:
        raise parsing.Unreadable("no start (date and time)")
    if row["end"]:
        try:
            end_time = parsing.parse_time(row["end"])
            end = parsing.aware(datetime.combine(timezone.localtime(start).date(), end_time))
        except parsing.Unreadable:
            end = parsing.parse_datetime(row["end"], order)
    elif row["duration"]:
        if not row["duration"].isdigit():
            raise parsing.Unreadable(f"length \u201c{row['duration']}\u201d is not a number of minutes")
        end = start + timedelta(minutes=int(row["duration"]))
    else:
        end = start + timedelta(minutes=type_minutes)
    if end <= start:
        raise parsing.Unreadable("it ends before it starts")
    if end - start > MAX_LENGTH:
        raise parsing.Unreadable("it lasts more than 8 hours")
    return start, end


def plan_appointments(table, mapping, options, system, plan, patient_refs, refused_patient_rows):
    outcome = plan.outcome
    positions = _columns(table, mapping)
    start_given = "start" in positions or ("date" in positions and "start_time" in positions)
    outcome.missing["appointments"] = _missing(positions, APPOINTMENT_FIELDS) + (
        [] if start_given else ["Start (date and time)"]
    )
    outcome.unknown_columns["appointments"] = [
        h for h in unknown_columns(table.header, system, "appointments") if not mapping.get(h)
    ]
    outcome.appointments["rows"] = len(table.rows)
    if outcome.missing["appointments"]:
        return
    types = {t.name.lower(): t for t in AppointmentType.objects.all()}
    default_type = AppointmentType.objects.filter(pk=options.get("default_type") or None).first()
    locations = {loc.name.lower(): loc for loc in Location.objects.all()}
    default_location = (
        Location.objects.filter(pk=options.get("default_location") or None).first()
        or Location.objects.order_by("pk").first()
    )
    staff = practitioners()
    now = timezone.now()
    earlier_patients = imported_patients(
        system, {Row(line, cells, positions)["patient_source_id"] for line, cells in table.rows}
    )
    width = len(table.header)
    candidates = []  # (line, source id, Appointment, patient ref)
    seen = {}
    for line, cells in table.rows:
        row = Row(line, cells, positions)
        try:
            if len(cells) > width:
                raise parsing.Unreadable(f"{len(cells)} cells where the header has {width} columns")
            type_name = row["type"]
            kind = types.get(type_name.lower()) if type_name else None
            if kind is None:
                if default_type is None:
                    outcome.unknown_types[type_name or "(none)"] = (
                        outcome.unknown_types.get(type_name or "(none)", 0) + 1
                    )
                    raise parsing.Unreadable(
                        f"unknown appointment type \u201c{type_name}\u201d: choose a type for unknown types"
                    )
                if type_name:
                    outcome.unknown_types[type_name] = outcome.unknown_types.get(type_name, 0) + 1
                kind = default_type
            start, end = _times(row, options, kind.default_minutes)
            patient_id = row["patient_source_id"]
            source_id = row["source_id"] or f"{patient_id}@{start.isoformat()}"
            if len(source_id) > 100:
                raise parsing.Unreadable("an id longer than 100 characters")
            if source_id in seen:
                raise parsing.Unreadable(f"the id {source_id} is also on row {seen[source_id]}")
            seen[source_id] = line
            if not patient_id:
                raise parsing.Unreadable("no patient id")
            ref = patient_refs.get(patient_id, earlier_patients.get(patient_id))
            if ref is None:
                if patient_id in refused_patient_rows:
                    raise parsing.Unreadable(
                        f"its patient (row {refused_patient_rows[patient_id]}) was refused"
                    )
                raise parsing.Unreadable(f"no patient with id {patient_id} in this import or an earlier one")
            named = row["practitioner"]
            therapist = staff.get(named.lower()) or staff.get(_staff_key(named))
            if therapist is None:
                raise parsing.Unreadable(
                    f"no member of staff named \u201c{named}\u201d (add them, or correct the name)"
                )
            if therapist.role != Role.PHYSIO:
                raise parsing.Unreadable(
                    f"{therapist} is not a physiotherapist ({therapist.get_role_display()})"
                )
            status, cancel_reason = appointment_status(row, start, system, now)
            location = locations.get(row["location"].lower()) if row["location"] else None
            notes = row["notes"]
            if len(notes) > 2000:
                outcome.warn("appointments", line, source_id, "notes cut to 2,000 characters")
                notes = notes[:2000]
            appointment = Appointment(
                therapist=therapist,
                type=kind,
                location=location or default_location,
                start=start,
                end=end,
                status=status,
                cancel_reason=cancel_reason,
                notes=notes,
                created_at=now,
            )
            if appointment.location is None:
                raise parsing.Unreadable("no location is set up")
        except parsing.Unreadable as error:
            outcome.refuse("appointments", line, row["source_id"], str(error))
            continue
        candidates.append((line, source_id, appointment, ref))
    already = set(
        ImportedRecord.objects.filter(
            source_system=system, kind=RecordKind.APPOINTMENT, source_id__in=[c[1] for c in candidates]
        ).values_list("source_id", flat=True)
    )
    fresh = [c for c in candidates if c[1] not in already]
    outcome.appointments["already"] = len(candidates) - len(fresh)
    bookings = [
        Booking(a.therapist_id, ref if isinstance(ref, int) else f"new-{ref[1]}", a.start, a.end, a.status)
        for _l, _s, a, ref in fresh
    ]
    clashes = clashes_among(bookings)
    for index, (line, source_id, appointment, ref) in enumerate(fresh):
        if index in clashes:
            reason = re.sub(r"\{row:(\d+)\}", lambda m: str(fresh[int(m[1])][0]), clashes[index])
            outcome.refuse("appointments", line, source_id, reason)
            continue
        plan.new_appointments.append((line, source_id, appointment, ref))
        outcome.appointments["create"] += 1


# --- the whole batch ----------------------------------------------------------------------------------------
def _appointments(batch, plan, refs, *, with_notes):
    if not batch.appointments_file_name:
        return
    table = read_table(
        bytes(batch.appointments_file),
        encoding=batch.options.get("encoding", "utf-8"),
        label="appointments file",
    )
    if with_notes:
        plan.outcome.notes.extend(table.notes)
    plan_appointments(
        table,
        batch.mapping.get("appointments", {}),
        batch.options,
        batch.source_system,
        plan,
        refs,
        plan.refused_patients,
    )


def dry_run(batch):
    """The Plan for a saved batch as its files, mapping and options stand now: every patient row read,
    checked and staged (replacing what was staged before), then matched against the registry; the
    appointments read and checked against the bookings on file. Writes only the staged rows."""
    outcome = Outcome(source_system=batch.source_system)
    plan = Plan(outcome=outcome)
    patients = read_table(
        bytes(batch.patients_file),
        encoding=batch.options.get("encoding", "utf-8"),
        label="patient file",
        name=batch.patients_file_name,
    )
    outcome.notes.extend(patients.notes)
    stage_patients(
        patients, batch.mapping.get("patients", {}), batch.options, batch.source_system, batch, outcome
    )
    _appointments(batch, plan, plan_patients(batch, plan), with_notes=True)
    return plan


def replan(batch):
    """The Plan for confirming a batch: its staged patient rows (read and checked by its dry run, from the
    same files, mapping and options: any change stages them again) matched against the registry and the
    earlier imports as they stand now, and its appointments read and checked again."""
    stored = Outcome.from_json(batch.result)
    outcome = Outcome(
        source_system=batch.source_system,
        refusals=[r for r in stored.refusals if r[0] == "patients"],
        warnings=[w for w in stored.warnings if w[0] == "patients" and not w[3].startswith(SAME_PERSON)],
        notes=stored.notes,
        missing={"patients": stored.missing.get("patients", [])},
        unknown_columns={"patients": stored.unknown_columns.get("patients", [])},
    )
    outcome.patients.update(rows=stored.patients["rows"], refuse=stored.patients["refuse"])
    plan = Plan(outcome=outcome)
    _appointments(batch, plan, plan_patients(batch, plan), with_notes=False)
    return plan


def headers(batch):
    """{file: header} of the batch's files, for the mapping form."""
    encoding = batch.options.get("encoding", "utf-8")
    found = {
        "patients": read_table(
            bytes(batch.patients_file), encoding=encoding, label="patient file", name=batch.patients_file_name
        ).header
    }
    if batch.appointments_file_name:
        found["appointments"] = read_table(
            bytes(batch.appointments_file),
            encoding=encoding,
            label="appointments file",
            name=batch.appointments_file_name,
        ).header
    return found


__all__ = ["FIELDS", "Outcome", "Plan", "dry_run", "headers", "replan", "sha256"]
