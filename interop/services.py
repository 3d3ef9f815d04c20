"""The interop app's operations: the import's upload, mapping, dry run, confirmation and discarding, and the
FHIR export of one patient's record. Views call these; each refusal is an ImportRefused with a message."""

import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone

from appointments.services.imports import book_imported
from audit.models import Action
from audit.services import audited_transaction, record
from consent.printing import consent_pdf
from patients.services import register_patients_in_bulk
from treatments.summary import visit_summary_pdf

from . import fhir, imports
from .csvfiles import UnreadableFile, read_table
from .layouts import FIELDS, IGNORE, detect_system, guess_mapping, known_headers, norm
from .models import BatchStatus, ImportBatch, ImportedRecord, RecordKind, SourceSystem
from .records import patient_record

PENDING_KEPT_DAYS = 1


class ImportRefused(ValidationError):
    """An upload, mapping or confirmation refused, with a message for the administrator."""


# --- the import ---------------------------------------------------------------------------------------------
def _discard_stale():
    """Uploads never confirmed are dropped after a day: they hold patients' details, and nothing else
    needs them."""
    cutoff = timezone.now() - timedelta(days=PENDING_KEPT_DAYS)
    ImportBatch.objects.filter(status=BatchStatus.PENDING, created_at__lt=cutoff).update(
        status=BatchStatus.DISCARDED, patients_file=b"", appointments_file=b""
    )


def start_import(*, patients_file, appointments_file=None, source_system="", options, by):
    """Read the uploaded file(s), guess the system and the columns, and keep the batch with its dry run.
    Refuses (ImportRefused) a file that cannot be read as a CSV table (csvfiles.read_table says why), and a
    patient file in which no column is one a Jane or Cliniko patient export has. Writes nothing else."""
    patients_data = patients_file.read()
    appointments_data = appointments_file.read() if appointments_file else b""
    encoding = options.get("encoding", "utf-8")
    found = {}

    def recognise(header):
        # Refused on its first line: a file of junk is not read to its end.
        found["system"] = source_system or detect_system(header)
        known = found["system"] and (set(map(norm, header)) & set(known_headers(found["system"], "patients")))
        if not known:
            shown = ", ".join(f"\u201c{h[:40]}\u201d" for h in header[:5])
            raise UnreadableFile(
                "The first line of the patient file is not the header of a Jane or Cliniko patient "
                f"export: none of its columns is one they write (it starts {shown}). "
                "Export the patient list again as CSV."
            )

    try:
        patients = read_table(patients_data, encoding=encoding, label="patient file", on_header=recognise)
        appointments = (
            read_table(appointments_data, encoding=encoding, label="appointments file")
            if appointments_file
            else None
        )
    except UnreadableFile as error:
        raise ImportRefused(error.messages[0]) from None
    system = found["system"]
    mapping = {"patients": guess_mapping(patients.header, system, "patients")}
    if appointments is not None:
        mapping["appointments"] = guess_mapping(appointments.header, system, "appointments")
    _discard_stale()
    batch = ImportBatch(
        source_system=system,
        created_by=by,
        patients_file_name=getattr(patients_file, "name", "patients.csv")[:200],
        patients_file=patients_data,
        patients_sha256=imports.sha256(patients_data),
        appointments_file_name=getattr(appointments_file, "name", "")[:200] if appointments_file else "",
        appointments_file=appointments_data,
        appointments_sha256=imports.sha256(appointments_data) if appointments_file else "",
        options=options,
        mapping=mapping,
    )
    batch.result = imports.plan_import(batch).outcome.as_json()
    batch.save()
    return batch


def remap(batch, mapping, options=None):
    """Change how the batch's columns map (and its options), and run the dry run again. Refuses a batch no
    longer waiting, a field given to two columns, and a field or column that does not exist."""
    if batch.status != BatchStatus.PENDING:
        raise ImportRefused("This import is no longer waiting for a dry run.")
    known = imports.headers(batch)
    for kind, columns in mapping.items():
        fields = {key for key, _label, _required in FIELDS[kind]}
        taken = {}
        for header, target in columns.items():
            if header not in known.get(kind, []) or (target and target not in fields):
                raise ImportRefused(
                    f"There is no column \u201c{header}\u201d or no field \u201c{target}\u201d."
                )
            if target and target in taken:
                label = dict((k, lab) for k, lab, _r in FIELDS[kind])[target]
                raise ImportRefused(
                    f"\u201c{header}\u201d and \u201c{taken[target]}\u201d both map to {label}: choose one."
                )
            if target:
                taken[target] = header
    batch.mapping = {
        kind: {h: mapping.get(kind, {}).get(h, IGNORE) for h in headers} for kind, headers in known.items()
    }
    if options:
        batch.options = {**batch.options, **options}
    batch.result = imports.plan_import(batch).outcome.as_json()
    batch.save(update_fields=["mapping", "options", "result"])
    return batch


def confirm_import(batch, *, by, request=None):
    """Carry out the batch's plan, worked out again now: create its patients (patients' bulk registration),
    link every row to its patient, book its appointments (appointments' import booking), record where each
    came from, and audit the import with its counts; all in one transaction. Refuses a batch already
    imported or discarded, a plan with nothing to import or a required column unmapped, and (rolling back
    everything) a row taken meanwhile by another import or booking."""
    label = SourceSystem(batch.source_system).label
    try:
        with audited_transaction():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status != BatchStatus.PENDING:
                raise ImportRefused("This import was already carried out or discarded.")
            plan = imports.plan_import(batch)
            outcome = plan.outcome
            if not outcome.can_import:
                raise ImportRefused(
                    "Nothing can be imported: map the missing columns, or check the refusals."
                )
            detail = f"import {batch.pk} from {label}"
            created = register_patients_in_bulk([p for _l, _s, p in plan.new_patients], by=by, detail=detail)

            def patient_id(ref):
                return created[ref[1]].pk if isinstance(ref, tuple) else ref

            records = [
                ImportedRecord(
                    batch=batch,
                    source_system=batch.source_system,
                    kind=RecordKind.PATIENT,
                    source_id=source_id,
                    row_number=line,
                    patient=patient,
                )
                for (line, source_id, _p), patient in zip(plan.new_patients, created, strict=True)
            ]
            records += [
                ImportedRecord(
                    batch=batch,
                    source_system=batch.source_system,
                    kind=RecordKind.PATIENT,
                    source_id=source_id,
                    row_number=line,
                    patient_id=patient_id(ref),
                    created=False,
                )
                for line, source_id, ref in plan.links
            ]
            appointments = []
            for _line, _source_id, appointment, ref in plan.new_appointments:
                appointment.patient_id = patient_id(ref)
                appointments.append(appointment)
            booked = book_imported(appointments, by=by, detail=detail) if appointments else []
            records += [
                ImportedRecord(
                    batch=batch,
                    source_system=batch.source_system,
                    kind=RecordKind.APPOINTMENT,
                    source_id=source_id,
                    row_number=line,
                    appointment=appointment,
                )
                for (line, source_id, _a, _r), appointment in zip(plan.new_appointments, booked, strict=True)
            ]
            save_provenance(records)
            outcome.imported = True
            batch.status = BatchStatus.IMPORTED
            batch.imported_at = timezone.now()
            batch.imported_by = by
            batch.result = outcome.as_json()
            # The files leave the database once imported; their SHA-256 stays with the batch and the audit.
            batch.patients_file = b""
            batch.appointments_file = b""
            batch.save()
            record(
                Action.CREATE,
                request=request,
                user=by,
                obj=batch,
                detail=f"{label} import ({batch.patients_file_name}, sha256 {batch.patients_sha256[:16]}"
                + (
                    f"; {batch.appointments_file_name}, sha256 {batch.appointments_sha256[:16]}"
                    if batch.appointments_file_name
                    else ""
                )
                + f"): {outcome.summary()}",
            )
    except IntegrityError:
        raise ImportRefused(
            "Another import or booking took some of these rows meanwhile: nothing was imported. "
            "Run the dry run again."
        ) from None
    except ValidationError as error:
        if isinstance(error, ImportRefused):
            raise
        raise ImportRefused(f"Nothing was imported: {' '.join(error.messages)}") from None
    return batch


PROVENANCE_COLUMNS = [
    "batch_id", "source_system", "kind", "source_id", "row_number", "patient_id", "appointment_id", "created",
]  # fmt: skip


def save_provenance(records):
    """Insert ImportedRecord rows with COPY: bulk_create was the largest write of a confirmed import (3 s of
    a 20,000-row one, profiled). The table's constraints hold as for any insert (one row per source id,
    each pointing at its row); a refusal is Django's IntegrityError, as from bulk_create."""
    table = ImportedRecord._meta.db_table
    with connection.cursor() as cursor:
        copying = cursor.cursor.copy(f"COPY {table} ({', '.join(PROVENANCE_COLUMNS)}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for r in records:
                copy.write_row(
                    [r.batch_id, r.source_system, r.kind, r.source_id, r.row_number, r.patient_id,
                     r.appointment_id, r.created]
                )  # fmt: skip


def discard_import(batch, *, by, request=None):
    """Drop a batch waiting for confirmation, and the files it holds. Refuses one no longer waiting."""
    if batch.status != BatchStatus.PENDING:
        raise ImportRefused("Only an import waiting for confirmation can be discarded.")
    with audited_transaction():
        batch.status = BatchStatus.DISCARDED
        batch.patients_file = b""
        batch.appointments_file = b""
        batch.save(update_fields=["status", "patients_file", "appointments_file"])
        record(
            Action.UPDATE,
            request=request,
            user=by,
            obj=batch,
            detail="import discarded before it was confirmed",
        )
    return batch


# --- the FHIR export of one patient -------------------------------------------------------------------------
def patient_bundle(patient, *, pdfs=True):
    """The patient's whole record as a FHIR R4 Bundle (a dict), the consent and visit summary PDFs inside."""
    found = patient_record(patient)
    empty = None if pdfs else (lambda _row: None)
    resources = fhir.record_resources(
        found,
        consent_pdf=empty or consent_pdf,
        visit_summary_pdf=empty or visit_summary_pdf,
    )
    return fhir.bundle(list(resources))


def export_patient(patient, *, by, request=None):
    """(JSON bytes, counts) of the patient's Bundle, the export audited as a print of the chart."""
    document = patient_bundle(patient)
    counts = {}
    for entry in document["entry"]:
        kind = entry["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    record(
        Action.EXPORT,
        request=request,
        user=by,
        obj=patient,
        patient_id=patient.pk,
        detail="FHIR R4 Bundle of the whole record: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
    )
    return json.dumps(document, ensure_ascii=False, indent=1).encode(), counts
