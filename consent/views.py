import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.access import role_required
from accounts.models import Role
from audit.models import Action
from audit.services import record as audit
from clinic.pdf import pdf_response
from patients.models import Patient

from .errors import ConsentRefused, DuplicateSubmission
from .forms import DraftForm, ObtainConsentForm, RiskFormSet, WithdrawConsentForm
from .models import ConsentForm, ConsentRecord
from .printing import consent_pdf, decisions_of
from .selectors import current_form
from .services.drafting import draft_from_current, previous_version, save_draft, version_changes
from .services.obtaining import obtain_consent, withdraw_consent
from .services.publishing import publish_form

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


# --- consent form versions: the administrator drafts, previews, compares and publishes ----------------
def consent_version_or_404(pk):
    return get_object_or_404(ConsentForm.objects.select_related("published_by"), pk=pk)


@role_required(Role.ADMIN)
@require_safe
def versions(request):
    """Every version, newest first, with how many consents were signed on each; the one in effect marked."""
    all_versions = ConsentForm.objects.annotate(signed=Count("records")).order_by("-created_at", "-id")
    return render(
        request, "consent/versions/list.html", {"versions": all_versions, "current": current_form()}
    )


@role_required(Role.ADMIN)
@require_POST
def new_draft(request):
    """A new draft copied from the current version (text and risks), then its page to edit it."""
    try:
        draft = draft_from_current(by=request.user, request=request)
    except ConsentRefused as refused:
        messages.error(request, refused.messages[0])
        return redirect("consent:versions")
    messages.success(
        request, f"Draft version {draft.version} copied from the current version: edit it below."
    )
    return redirect("consent:version", pk=draft.pk)


@role_required(Role.ADMIN)
def version(request, pk):
    """A draft's page to edit its text and risks; a published version's page shows it, read-only (a POST
    to it is refused with a message: draft a new version instead)."""
    consent_form = consent_version_or_404(pk)
    risks = list(consent_form.risks.all())
    initial = [
        {"order": r.order, "region": r.region, "title": r.title, "description": r.description} for r in risks
    ]
    if consent_form.is_published:
        if request.method == "POST":
            messages.error(
                request,
                f"Version {consent_form.version} is published and can no longer be edited: "
                "draft a new version from it.",
            )
        return render(
            request,
            "consent/versions/published.html",
            {"consent_form": consent_form, "risks": risks},
            status=400 if request.method == "POST" else 200,
        )
    if request.method == "POST":
        form = DraftForm(request.POST, instance=consent_form)
        # No initial here: each row is what the page sent (a row's initial would make the blank row left
        # for a new risk look changed, and be refused as incomplete).
        formset = RiskFormSet(request.POST, prefix="risks")
        if form.is_valid() and formset.is_valid():
            try:
                save_draft(form.instance, risks=formset.risks(), by=request.user, request=request)
            except ConsentRefused as refused:
                _show_refusal(form, refused)
            else:
                messages.success(request, f"Draft version {consent_form.version} saved.")
                return redirect("consent:version", pk=consent_form.pk)
        status = 400
    else:
        form = DraftForm(instance=consent_form)
        formset = RiskFormSet(initial=initial, prefix="risks")
        status = 200
    return render(
        request,
        "consent/versions/edit.html",
        {"consent_form": ConsentForm.objects.get(pk=pk), "form": form, "formset": formset},
        status=status,
    )


@role_required(Role.ADMIN)
@require_safe
def version_preview(request, pk):
    """The version exactly as the patient reads it on the consent page (the same template), not signable."""
    consent_form = consent_version_or_404(pk)
    form = ObtainConsentForm(risks=consent_form.risks.all())
    return render(request, "consent/versions/preview.html", {"consent_form": consent_form, "form": form})


@role_required(Role.ADMIN)
def version_publish(request, pk):
    """What changes from the version before, then Publish (through publish_form, audited). Its refusals
    (already published, no text, no general risk) come back as a message on the same page."""
    consent_form = consent_version_or_404(pk)
    previous = previous_version(consent_form)
    status = 200
    if request.method == "POST":
        try:
            publish_form(consent_form, by=request.user, request=request)
        except ConsentRefused as refused:
            messages.error(request, refused.messages[0])
            status = 400
        else:
            messages.success(request, f"Version {consent_form.version} published.")
            return redirect("consent:versions")
    context = {
        "consent_form": consent_form,
        "previous": previous,
        "changes": version_changes(consent_form, previous),
    }
    return render(request, "consent/versions/publish.html", context, status=status)
