"""The clinic's whole record as FHIR Bulk Data: one NDJSON file per resource type (one resource a line) and
the manifest an $export answers with, written to a folder (manage.py export_fhir) or streamed as one ZIP
(the administrator's download).

Each file is read through a server-side cursor, CHUNK rows at a time, so memory stays flat whatever the
clinic's size. PDFs are not rendered here (a visit summary costs about half a second: a 70,000-session
clinic would take hours); each Consent and DocumentReference names its PDF by URL instead, and
`export_fhir --embed-pdfs` renders them inline for a small clinic. A clinic larger than
FHIR_BULK_BACKGROUND_OVER records is prepared by the task runner instead of streamed (write_bulk_zip(), run as
a background export by outbox.exports): the same ZIP, stored for the administrator who asked.
"""

import io
import json
import zipfile
from pathlib import Path

from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import record

from . import fhir, records

CHUNK_BYTES = 64 * 1024
RESOURCE_TYPES = [
    "Patient",
    "Practitioner",
    "Location",
    "Appointment",
    "Consent",
    "Encounter",
    "Procedure",
    "Observation",
    "AdverseEvent",
    "DocumentReference",
]


def _patients():
    from patients.models import Patient

    return Patient.objects.order_by("id").iterator(chunk_size=records.CHUNK)


def resources_of(resource_type, *, base_url, embed_pdfs=False):
    """Every resource of one type in the clinic, one by one, with Bulk Data (Type/id) references."""
    ref = fhir.relative_ref
    if resource_type == "Patient":
        return (fhir.patient_resource(p, ref) for p in _patients())
    if resource_type == "Practitioner":
        return (fhir.practitioner_resource(u, ref) for u in records.all_practitioners())
    if resource_type == "Location":
        return (fhir.location_resource(loc, ref) for loc in records.all_locations())
    if resource_type == "Appointment":
        return (fhir.appointment_resource(a, ref) for a in records.all_appointments())
    if resource_type == "Consent":
        return _consents(base_url, embed_pdfs)
    if resource_type == "Encounter":
        return (fhir.encounter_resource(s, ref) for s in records.all_sessions())
    if resource_type == "Procedure":
        return (fhir.procedure_resource(p, ref) for p in records.all_points())
    if resource_type == "Observation":
        return _observations()
    if resource_type == "AdverseEvent":
        return (
            fhir.adverse_event_resource(e, [p.pk for p in e.session.points.all()], ref)
            for e in records.all_side_effects()
        )
    if resource_type == "DocumentReference":
        return _documents(base_url, embed_pdfs)
    raise ValueError(f"No such resource type in the export: {resource_type}")


def _consents(base_url, embed_pdfs):
    from consent.printing import consent_pdf

    for consent in records.all_consents():
        if embed_pdfs:
            yield fhir.consent_resource(consent, fhir.relative_ref, pdf=consent_pdf(consent))
        else:
            url = base_url + reverse("consent:pdf", args=[consent.pk])
            yield fhir.consent_resource(consent, fhir.relative_ref, url=url)


def _observations():
    for session in records.all_sessions():
        yield from fhir.pain_observations(session, fhir.relative_ref)
    for point in records.all_points():
        yield fhir.twitch_observation(point, fhir.relative_ref)


def _documents(base_url, embed_pdfs):
    from treatments.summary import visit_summary_bytes

    for session in records.all_sessions():
        if embed_pdfs:
            pdf = visit_summary_bytes(session)
            yield fhir.document_reference_resource(session, fhir.relative_ref, pdf=pdf)
        else:
            url = base_url + reverse("treatments:pdf", args=[session.pk])
            yield fhir.document_reference_resource(session, fhir.relative_ref, url=url)


def ndjson_lines(resources):
    for resource in resources:
        yield json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def manifest(counts, *, base_url, started):
    """The Bulk Data export's completion manifest, its `url`s naming the files beside it."""
    return {
        "transactionTime": fhir.instant(started),
        "request": f"{base_url}/$export",
        "requiresAccessToken": True,
        "output": [{"type": kind, "url": f"{kind}.ndjson", "count": count} for kind, count in counts.items()],
        "error": [],
    }


def audit_detail(counts, complete, embed_pdfs):
    shown = ", ".join(f"{kind} {count}" for kind, count in counts.items())
    pdfs = "PDFs inline" if embed_pdfs else "PDFs by URL"
    return f"FHIR Bulk Data (NDJSON, {pdfs}): {shown}" + (
        "" if complete else "; stopped before the end, incomplete"
    )


def write_bulk_export(directory, *, base_url, by=None, embed_pdfs=False, types=RESOURCE_TYPES):
    """Write <Type>.ndjson for each resource type and manifest.json into `directory`; audited as an export.
    Returns {type: count}."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    started, counts = timezone.now(), {}
    try:
        for kind in types:
            counts[kind] = 0
            with open(directory / f"{kind}.ndjson", "wb") as out:
                for line in ndjson_lines(resources_of(kind, base_url=base_url, embed_pdfs=embed_pdfs)):
                    out.write(line)
                    counts[kind] += 1
        (directory / "manifest.json").write_text(
            json.dumps(manifest(counts, base_url=base_url, started=started), indent=2)
        )
    finally:
        complete = len(counts) == len(types) and (directory / "manifest.json").exists()
        record(
            Action.EXPORT,
            user=by,
            object_type="interop.bulk_export",
            detail=audit_detail(counts, complete, embed_pdfs),
        )
    return counts


class _Sink(io.RawIOBase):
    """A write-only stream the ZIP writes into and the response drains (it cannot seek, so zipfile writes
    each entry's sizes after its data)."""

    def __init__(self):
        self.buffer, self.position, self.taken = bytearray(), 0, 0

    def writable(self):
        return True

    def write(self, data):
        self.buffer += data
        self.position += len(data)
        return len(data)

    def tell(self):
        return self.position

    def take(self):
        data = bytes(self.buffer)
        self.buffer.clear()
        self.taken = self.position
        return data


def _zip_pieces(sink, counts, *, base_url, started, types):
    """Write the NDJSON files and manifest.json as one ZIP into `sink`, yielding whenever CHUNK_BYTES or more
    wait in it (a streamed response takes them then; a background export's writer stores its own)."""
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for kind in types:
            counts[kind] = 0
            with archive.open(f"{kind}.ndjson", "w", force_zip64=True) as entry:
                for line in ndjson_lines(resources_of(kind, base_url=base_url)):
                    entry.write(line)
                    counts[kind] += 1
                    if sink.tell() - getattr(sink, "taken", 0) >= CHUNK_BYTES:
                        yield
        archive.writestr(
            "manifest.json", json.dumps(manifest(counts, base_url=base_url, started=started), indent=2)
        )
    yield


def stream_bulk_export(*, base_url, by, request=None, types=RESOURCE_TYPES):
    """The NDJSON files and manifest.json as one ZIP, yielded in pieces as they are written; audited when the
    stream ends (or is abandoned: then as incomplete, with what was sent)."""
    started, counts = timezone.now(), {}
    complete = False
    try:
        sink = _Sink()
        for _ in _zip_pieces(sink, counts, base_url=base_url, started=started, types=types):
            if sink.buffer:
                yield sink.take()
        complete = True
    finally:
        record(
            Action.EXPORT,
            request=request,
            user=by,
            object_type="interop.bulk_export",
            detail=audit_detail(counts, complete, False),
        )


def write_bulk_zip(out, *, by, base_url, types=RESOURCE_TYPES):
    """The same ZIP written into `out` by a background export (outbox.exports): the task runner's path for a
    large clinic. Returns what it holds (the counts per type), which the export's audit events (prepared,
    each download, under the administrator who asked) and their list of exports carry; `by` is theirs."""
    started, counts = timezone.now(), {}
    for _ in _zip_pieces(out, counts, base_url=base_url, started=started, types=types):
        pass
    return audit_detail(counts, True, False)


def clinic_size():
    """How many records the export would read (patients, appointments, sessions, needle points): what
    decides between streaming it now and preparing it in the background (FHIR_BULK_BACKGROUND_OVER)."""
    from django.db.models import Count

    from appointments.models import Appointment
    from patients.models import Patient
    from treatments.models import NeedlePoint, NeedlingSession

    return sum(
        model.objects.aggregate(n=Count("pk"))["n"]
        for model in (Patient, Appointment, NeedlingSession, NeedlePoint)
    )
