import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from accounts.access import role_required
from accounts.models import Role
from audit.models import Action
from audit.services import record as audit
from clinic.pdf import pdf_response
from patients.models import Patient

from .errors import ConsentRefused, DuplicateSubmission
from .forms import ObtainConsentForm, WithdrawConsentForm
from .models import ConsentRecord
from .printing import consent_pdf, decisions_of
from .selectors import current_form
from .services.obtaining import obtain_consent, withdraw_consent

# DESIGN.md: the front desk knows only whether consent is on file; the manager sees no clinical content.
CLINICAL = (Role.PHYSIO, Role.ADMIN)


def consent_record_or_404(pk):
    return get_object_or_404(
        ConsentRecord.objects.select_related("patient", "form", "explained_by", "withdrawn_by"), pk=pk
    )


@role_required(*CLINICAL)
def obtain(request, patient_pk):
    """The current version for a patient: read, decide each risk, sign. The administrator may look at
    the page; only a physiotherapist records a consent."""
    patient = get_object_or_404(Patient, pk=patient_pk)
    form_version = current_form()
    if form_version is None:
        messages.error(request, "No consent form version is published yet; ask the administrator.")
        return redirect("patients:chart", pk=patient.pk)
    risks = list(form_version.risks.all())
    initial = {
        "explained_by": request.user.pk if request.user.role == Role.PHYSIO else None,
        "signer_name": patient.full_name,
        "signer_relationship": "patient",
        "submission_key": uuid.uuid4(),
        "form_version": form_version.pk,
    }
    if request.method == "POST" and request.user.role != Role.PHYSIO:
        raise PermissionDenied("Only a physiotherapist records a consent.")
    if request.method == "POST" and request.POST.get("form_version") != str(form_version.pk):
        # The administrator published a new version while the page was open: what was read is not
        # what would be signed, so start again on the new text.
        messages.error(
            request,
            f"The consent form changed to version {form_version.version} while this page was open. "
            "Read the new version with the signer, then decide and sign again.",
        )
        form = ObtainConsentForm(initial=initial, risks=risks)
    elif request.method == "POST":
        form = ObtainConsentForm(request.POST, risks=risks)
        if form.is_valid():
            try:
                consent = obtain_consent(
                    patient,
                    form=form_version,
                    decisions=form.decisions(),
                    explained_by=form.cleaned_data["explained_by"],
                    signer_name=form.cleaned_data["signer_name"],
                    signer_relationship=form.cleaned_data["signer_relationship"],
                    signature=form.cleaned_data["signature"],
                    recorded_by=request.user,
                    submission_key=form.cleaned_data["submission_key"],
                    request=request,
                )
            except DuplicateSubmission as duplicate:
                messages.info(request, "This consent was already saved; here it is.")
                return redirect("consent:detail", pk=duplicate.existing.pk)
            except ConsentRefused as refused:
                _show_refusal(form, refused)
            else:
                messages.success(request, "Consent signed and saved. Print the patient's copy below.")
                return redirect("consent:detail", pk=consent.pk)
    else:
        form = ObtainConsentForm(initial=initial, risks=risks)
    return render(
        request,
        "consent/obtain.html",
        {
            "patient": patient,
            "consent_form": form_version,
            "form": form,
            "may_sign": request.user.role == Role.PHYSIO,
        },
    )


def _show_refusal(form, refused):
    """The service's message beside its field where there is one, else at the top of the form."""
    if hasattr(refused, "error_dict"):
        for field, errors in refused.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, refused.messages)


@role_required(*CLINICAL)
def detail(request, pk):
    consent = consent_record_or_404(pk)
    audit(Action.VIEW, request=request, obj=consent, patient_id=consent.patient_id, detail="consent record")
    return render(
        request,
        "consent/detail.html",
        {
            "consent": consent,
            "patient": consent.patient,
            "decisions": decisions_of(consent),
            "may_withdraw": request.user.role == Role.PHYSIO and not consent.is_withdrawn,
        },
    )


@role_required(*CLINICAL)
def pdf(request, pk):
    """The patient's copy: exact version text, every decision, the signature, names and times. Audited."""
    consent = consent_record_or_404(pk)
    document = consent_pdf(consent, request=request)
    audit(Action.PRINT, request=request, obj=consent, patient_id=consent.patient_id, detail="consent PDF")
    return pdf_response(document, f"consent-{consent.patient.chart_number}-{consent.pk}.pdf")


@role_required(Role.PHYSIO)
def withdraw(request, pk):
    consent = consent_record_or_404(pk)
    form = WithdrawConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdraw_consent(consent, by=request.user, reason=form.cleaned_data["reason"], request=request)
        except ConsentRefused as refused:
            _show_refusal(form, refused)
        else:
            messages.success(request, "Consent withdrawn: from now on it grants nothing.")
            return redirect("consent:detail", pk=consent.pk)
    return render(
        request, "consent/withdraw.html", {"consent": consent, "patient": consent.patient, "form": form}
    )
