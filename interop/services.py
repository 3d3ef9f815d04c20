"""The interop app's operations: the import's upload, mapping, dry run, confirmation and discarding, and the
FHIR export of one patient's record. Views call these; each refusal is an ImportRefused with a message."""

import json
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from appointments.services.imports import book_imported
from audit.models import Action
from audit.services import audited_transaction, record
from consent.printing import consent_pdf
from patients.services import STAGED_COLUMNS, register_from_staging
from treatments.summary import visit_summary_bytes

from . import fhir, imports
from .csvfiles import UnreadableFile, read_table
from .layouts import FIELDS, IGNORE, detect_system, guess_mapping, known_headers, norm
from .models import BatchStatus, ImportBatch, ImportedRecord, RecordKind, SourceSystem, StagedPatient
from .records import patient_record

PENDING_KEPT_DAYS = 1


class ImportRefused(ValidationError):
    """An upload, mapping or confirmation refused, with a message for the administrator."""


# --- the import ---------------------------------------------------------------------------------------------
def _discard_stale():
    """Uploads never confirmed are dropped after a day: they hold patients' details, and nothing else
    needs them."""
    cutoff = timezone.now() - timedelta(days=PENDING_KEPT_DAYS)
    pending = ImportBatch.objects.filter(status=BatchStatus.PENDING, created_at__lt=cutoff)
    stale = list(pending.values_list("pk", flat=True))
    if stale:
        # By the batches' ids, not a subquery: the staged rows are never joined (imports.plan_patients).
        StagedPatient.objects.filter(batch_id__in=stale).delete()
        ImportBatch.objects.filter(pk__in=stale).update(
            status=BatchStatus.DISCARDED, patients_file=b"", appointments_file=b""
        )


def start_import(*, patients_file, appointments_file=None, source_system="", options, by):
    """Read the uploaded file(s), guess the system and the columns, and keep the batch with its dry run.
    Refuses (ImportRefused) a file that cannot be read as a CSV table or an XLSX workbook (csvfiles.read_table
    and workbooks.read_workbook say why), and a
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
                "Export the patient list again as CSV or XLSX."
            )

    try:
        patients = read_table(
            patients_data,
            encoding=encoding,
            label="patient file",
            on_header=recognise,
            name=getattr(patients_file, "name", ""),
        )
        appointments = (
            read_table(
                appointments_data,
                encoding=encoding,
                label="appointments file",
                name=getattr(appointments_file, "name", ""),
            )
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
    with transaction.atomic():
        batch.save()
        batch.result = imports.dry_run(batch).outcome.as_json()
        batch.save(update_fields=["result"])
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
    with transaction.atomic():
        batch.result = imports.dry_run(batch).outcome.as_json()
        batch.save(update_fields=["mapping", "options", "result"])
    return batch


def confirm_import(batch, *, by, request=None):
    """Carry out the batch's plan, worked out again now from the rows its dry run staged (matched against
    the registry as it stands): create its patients (register_staged_patients), link every row to its
    patient, book its appointments (appointments' import booking), record where each came from, and audit
    the import with its counts; all in one transaction. Refuses a batch already imported or discarded, a
    plan with nothing to import or a required column unmapped, and (rolling back everything) a row taken
    meanwhile by another import or booking, or refused by the database's constraints."""
    label = SourceSystem(batch.source_system).label
    try:
        with audited_transaction():
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status != BatchStatus.PENDING:
                raise ImportRefused("This import was already carried out or discarded.")
            plan = imports.replan(batch)
            outcome = plan.outcome
            if not outcome.can_import:
                raise ImportRefused(
                    "Nothing can be imported: map the missing columns, or check the refusals."
                )
            detail = f"import {batch.pk} from {label}"
            created = register_staged_patients(
                batch, [line for line, _s in plan.new_patients], by=by, detail=detail
            )

            def patient_id(ref):
                return created[ref[1]] if isinstance(ref, tuple) else ref

            system, patient, appointment = batch.source_system, RecordKind.PATIENT, RecordKind.APPOINTMENT
            records = [
                (batch.pk, system, patient, source_id, line, created[line], None, True)
                for line, source_id in plan.new_patients
            ]
            records += [
                (batch.pk, system, patient, source_id, line, patient_id(ref), None, False)
                for line, source_id, ref in plan.links
            ]
            appointments = []
            for _line, _source_id, booking, ref in plan.new_appointments:
                booking.patient_id = patient_id(ref)
                appointments.append(booking)
            booked = book_imported(appointments, by=by, detail=detail) if appointments else []
            records += [
                (batch.pk, system, appointment, source_id, line, None, booking.pk, True)
                for (line, source_id, _a, _r), booking in zip(plan.new_appointments, booked, strict=True)
            ]
            save_provenance(records)
            StagedPatient.objects.filter(batch=batch).delete()
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
            "The database refused a row (another import or booking took it meanwhile, or a value broke one "
            "of its rules): nothing was imported. Run the dry run again."
        ) from None
    except ValidationError as error:
        if isinstance(error, ImportRefused):
            raise
        raise ImportRefused(f"Nothing was imported: {' '.join(error.messages)}") from None
    return batch


PROVENANCE_COLUMNS = [
    "batch_id", "source_system", "kind", "source_id", "row_number", "patient_id", "appointment_id", "created",
]  # fmt: skip


def register_staged_patients(batch, lines, *, by, detail):
    """Create a patient from each of the batch's staged rows on `lines` (patients.services
    .register_from_staging: one INSERT ... SELECT, audited); returns {line: patient id}. The rows were
    checked as the Patient model checks its fields when they were staged (imports.read_patient), and
    matched against the registry just before (imports.plan_patients). Inside the caller's
    audited_transaction(); refuses (ImportRefused) when a staged row went missing meanwhile."""
    if STAGED_COLUMNS != imports.STAGED_FIELDS:  # the two lists must name the same columns in the same order
        raise RuntimeError("interop.imports.STAGED_FIELDS no longer matches patients.services.STAGED_COLUMNS")
    created = register_from_staging(StagedPatient._meta.db_table, batch.pk, lines, by=by, detail=detail)
    if len(created) != len(lines):
        raise ImportRefused(
            "The dry run's rows changed meanwhile: nothing was imported. Run the dry run again."
        )
    return created


def save_provenance(records):
    """Insert ImportedRecord rows (tuples in PROVENANCE_COLUMNS order) with COPY: bulk_create was the
    largest write of a confirmed import (3 s of a 20,000-row one, profiled). The table's constraints hold
    as for any insert (one row per source id, each pointing at its row); a refusal is Django's
    IntegrityError, as from bulk_create."""
    table = ImportedRecord._meta.db_table
    with connection.cursor() as cursor:
        copying = cursor.cursor.copy(f"COPY {table} ({', '.join(PROVENANCE_COLUMNS)}) FROM STDIN")
        with connection.wrap_database_errors, copying as copy:
            for row in records:
                copy.write_row(row)


def discard_import(batch, *, by, request=None):
    """Drop a batch waiting for confirmation, and the files it holds. Refuses one no longer waiting."""
    if batch.status != BatchStatus.PENDING:
        raise ImportRefused("Only an import waiting for confirmation can be discarded.")
    with audited_transaction():
        StagedPatient.objects.filter(batch=batch).delete()
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
        visit_summary_pdf=empty or visit_summary_bytes,
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
