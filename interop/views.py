"""The administrator's import page (upload, dry run, mapping, confirm or discard) and the FHIR exports: one
patient's record as a Bundle (physiotherapists and the administrator: a patient's request for their
record), the whole clinic as Bulk Data NDJSON (the administrator). Views parse, call services, render."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.models import Role
from outbox.exports import request_export
from outbox.models import BackgroundExport, ExportStatus
from patients.models import Patient

from . import bulk, services
from .forms import ImportForm, MappingForm
from .imports import Outcome, headers
from .layouts import FIELDS
from .models import BatchStatus, ImportBatch


def _recent():
    return ImportBatch.objects.select_related("created_by").defer("patients_file", "appointments_file")[:10]


@role_required(Role.ADMIN)
def import_start(request):
    """Upload a Jane or Cliniko patient list (and appointments): the dry run follows; nothing is
    imported yet."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.start_import(
                patients_file=form.cleaned_data["patients_file"],
                appointments_file=form.cleaned_data.get("appointments_file"),
                source_system=form.cleaned_data["source_system"],
                options=form.options(),
                by=request.user,
            )
        except services.ImportRefused as refused:
            form.add_error(None, refused.messages)
        else:
            return redirect("interop:batch", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "interop/import.html", {"form": form, "recent": _recent()}, status=status)


def _batch_page(request, batch, form=None, status=200):
    outcome = Outcome.from_json(batch.result)
    if form is None and batch.status == BatchStatus.PENDING:
        initial = {
            "date_order": batch.options.get("date_order", "auto"),
            "default_type": batch.options.get("default_type"),
            "default_location": batch.options.get("default_location"),
        }
        form = MappingForm(headers=headers(batch), mapping=batch.mapping, initial=initial)
    labels = {kind: {key: label for key, label, _r in fields} for kind, fields in FIELDS.items()}
    return render(
        request,
        "interop/batch.html",
        {
            "batch": batch,
            "outcome": outcome,
            "form": form,
            "kinds": [(kind, form.fields_of(kind)) for kind in ("patients", "appointments")] if form else [],
            "labels": labels,
            "BatchStatus": BatchStatus,
        },
        status=status,
    )


@role_required(Role.ADMIN)
def import_batch(request, pk):
    """The dry run: counts, refusals with their reasons, and the column mapping (POST: map and run again)."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    if request.method != "POST" or batch.status != BatchStatus.PENDING:
        return _batch_page(request, batch, status=200 if request.method != "POST" else 400)
    form = MappingForm(request.POST, headers=headers(batch), mapping=batch.mapping)
    if not form.is_valid():
        return _batch_page(request, batch, form=form, status=400)
    try:
        services.remap(batch, form.mapping(), form.options())
    except services.ImportRefused as refused:
        form.add_error(None, refused.messages)
        return _batch_page(request, batch, form=form, status=400)
    messages.success(
        request, "Dry run done again with the new mapping. Nothing is imported until you confirm."
    )
    return redirect("interop:batch", pk=batch.pk)


@role_required(Role.ADMIN)
@require_POST
def import_confirm(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        batch = services.confirm_import(batch, by=request.user, request=request)
    except services.ImportRefused as refused:
        messages.error(request, " ".join(refused.messages))
        return _batch_page(request, ImportBatch.objects.get(pk=batch.pk), status=400)
    messages.success(request, f"Imported: {Outcome.from_json(batch.result).summary()}.")
    return redirect("interop:batch", pk=batch.pk)


@role_required(Role.ADMIN)
@require_POST
def import_discard(request, pk):
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        services.discard_import(batch, by=request.user, request=request)
    except services.ImportRefused as refused:
        messages.error(request, " ".join(refused.messages))
        return _batch_page(request, batch, status=400)
    messages.success(request, "Import discarded; its files were deleted.")
    return redirect("interop:import")


@role_required(Role.PHYSIO, Role.ADMIN)
def patient_bundle(request, patient_pk):
    """The patient's whole record as a FHIR R4 Bundle (JSON), PDFs inside: a patient's request for their
    record. Audited as an export of the chart."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    document, _counts = services.export_patient(patient, by=request.user, request=request)
    response = HttpResponse(document, content_type="application/fhir+json; charset=utf-8")
    name = f"fhir-{patient.chart_number}-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


BULK_KIND = "interop.fhir_bulk"


def _large():
    return bulk.clinic_size() > settings.FHIR_BULK_BACKGROUND_OVER


@role_required(Role.ADMIN)
def clinic_export(request):
    """The clinic-wide FHIR export: streamed at once for a small clinic; for a large one (more records than
    FHIR_BULK_BACKGROUND_OVER) prepared by the worker (POST), this page showing the administrator's own
    exports' status and their downloads."""
    large = _large()
    if request.method == "POST":
        if not large:
            return redirect("interop:clinic_export_download")
        base_url = request.build_absolute_uri("/").rstrip("/")
        request_export(
            by=request.user,
            kind=BULK_KIND,
            description="FHIR Bulk Data (NDJSON in a ZIP), the whole clinic",
            function="interop.bulk.write_bulk_zip",
            parameters={"base_url": base_url},
            filename=f"fhir-bulk-{timezone.localdate():%Y%m%d}.zip",
            content_type="application/zip",
            roles=[Role.ADMIN],
            request=request,
        )
        messages.success(
            request, "The export is being prepared in the background. It will be listed below when ready."
        )
        return redirect("interop:clinic_export")
    mine = BackgroundExport.objects.filter(requested_by=request.user, kind=BULK_KIND).defer("parameters")[:10]
    return render(
        request,
        "interop/clinic_export.html",
        {
            "types": bulk.RESOURCE_TYPES,
            "large": large,
            "threshold": settings.FHIR_BULK_BACKGROUND_OVER,
            "exports": mine,
            "ExportStatus": ExportStatus,
        },
    )


@role_required(Role.ADMIN)
def clinic_export_download(request):
    """Every record of the clinic as FHIR Bulk Data NDJSON in one ZIP, streamed; audited when it ends. A large
    clinic is sent to the page, whose button prepares it in the background."""
    if _large():
        messages.info(
            request, "This clinic is too large to export during a request: prepare it in the background."
        )
        return redirect("interop:clinic_export")
    base_url = request.build_absolute_uri("/").rstrip("/")
    response = StreamingHttpResponse(
        bulk.stream_bulk_export(base_url=base_url, by=request.user, request=request),
        content_type="application/zip",
    )
    response["Content-Disposition"] = f'attachment; filename="fhir-bulk-{timezone.localdate():%Y%m%d}.zip"'
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
