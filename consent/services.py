"""Consent rules that span rows: publishing a version, obtaining and withdrawing consent, and the one
answer the needling work asks: may this patient be needled now, and in which regions.

How a region's status is decided at a moment `at` (DESIGN.md rule 1):
- only records signed at or before `at` count, and only on versions not superseded by a version that
  requires re-consent and is in effect at `at` (published, effective date reached);
- of those, the most recent record holding a decision for the region decides: withdrawn (at or before
  `at`) grants nothing, a declined risk blocks, and the region is allowed only when every risk of that
  region on the record was accepted. A newer consent replaces an older one, so withdrawing the newest
  is not undone by an older one still on file.
Region.GENERAL (the general risks of needling) is decided the same way and gates every point: without it
accepted nothing may be needled; a neck or mid back point needs both the general risks and its region's.

The decision itself is the database's (consent_allowing_record() of migration 0004, which the needle point
trigger and the reports' coverage call too): consents_allowing() asks it, and consent_status() explains
it in words for screens and messages (tests/consent/test_consent_allows_sql.py holds the two together).
"""

import base64
import binascii
import io
import re
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction
from audit.services import record as audit

from .models import (
    RISK_REGIONS,
    ConsentForm,
    ConsentRecord,
    Region,
    RiskDecision,
    RiskItem,
    SignerRelationship,
)
from .states import STATE_COLOURS, RegionState, state_badge


class NeedlingNotAllowed(ValidationError):
    """A point for a patient whose consent does not cover it now: the general risks of needling are not
    accepted (no consent, declined, withdrawn, re-consent needed), or the point's risk region is not."""


class ConsentRefused(ValidationError):
    """A consent, withdrawal or publication that cannot be saved, with a message for the user."""


class DuplicateSubmission(ValidationError):
    """The same consent page was submitted twice; .existing is the record the first submission saved."""

    def __init__(self, existing):
        self.existing = existing
        super().__init__("This consent was already saved (the form was submitted twice).", code="duplicate")


# --- forms ------------------------------------------------------------------------------------------
def form_order(form):
    """Versions in the order they came into effect."""
    return (form.effective_date, form.published_at, form.pk)


def published_forms():
    """Every published version, newest in effect first (one query; versions are few)."""
    return list(
        ConsentForm.objects.filter(published_at__isnull=False).order_by(
            "-effective_date", "-published_at", "-id"
        )
    )


def forms_in_effect(at=None, forms=None):
    """Published versions whose effective date has come by `at` (now by default), newest first."""
    at = at or timezone.now()
    today = timezone.localdate(at)
    forms = published_forms() if forms is None else forms
    return [f for f in forms if f.effective_date <= today and f.published_at <= at]


def current_form(at=None):
    """The version a patient signs now: the newest published version in effect, or None."""
    in_effect = forms_in_effect(at)
    return in_effect[0] if in_effect else None


def publish_form(form, *, by, request=None):
    """Publish a version so that patients can sign it. Refuses one already published, one without risks
    or without the general risks of needling, and a publisher who is not an administrator."""
    if not by.has_role(Role.ADMIN):
        raise ConsentRefused("Only an administrator publishes consent form versions.")
    if form.published_at is not None:
        raise ConsentRefused(f"Version {form.version} is already published.")
    if not form.body.strip():
        raise ConsentRefused("A consent form needs its text before it is published.")
    if not RiskItem.objects.filter(form=form).exists():
        raise ConsentRefused("A consent form needs at least one risk before it is published.")
    if not RiskItem.objects.filter(form=form, region=Region.GENERAL).exists():
        # Every point needs the general risks accepted: a version without them could never allow needling.
        raise ConsentRefused("A consent form needs the general risks of needling before it is published.")
    form.published_at = timezone.now()
    form.published_by = by
    with audited_transaction():
        form.save(update_fields=["published_at", "published_by"])
        audit(
            Action.PUBLISH,
            request=request,
            user=by,
            obj=form,
            detail=f"version {form.version}" + (" (requires re-consent)" if form.requires_reconsent else ""),
        )
    return form


# --- signatures -------------------------------------------------------------------------------------
MAX_SIGNATURE_BYTES = 512 * 1024
SVG_NS = "{http://www.w3.org/2000/svg}"
# What signature_pad's toSVG() writes, and nothing else: the signature is drawn by WeasyPrint into the PDF
# and shown in pages, so it must not run a script, fetch anything, or carry CSS (a style attribute can
# hide url() or @import behind escapes such as `\75 rl(`, so style is refused whatever it holds).
# Each attribute's value must also match its own shape: numbers where numbers go, path data, colours.
SVG_ELEMENTS = {"svg", "path", "circle", "rect", "g", "line", "polyline"}
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LENGTH = re.compile(rf"^\s*{_NUMBER}(?:px|%)?\s*$")
_NUMBERS = re.compile(rf"^\s*(?:{_NUMBER}[\s,]*)*$")
_PATH_DATA = re.compile(r"^[MmLlHhVvCcSsQqTtAaZz0-9eE.,+\-\s]*$")
_COLOUR = re.compile(r"^\s*(?:none|[a-zA-Z]{1,20}|#[0-9a-fA-F]{3,8}|rgba?\(\s*[0-9.,%\s]{1,40}\))\s*$")
_WORD = re.compile(r"^\s*[a-z]{1,12}\s*$")
SVG_ATTRIBUTES = {
    "viewBox": _NUMBERS, "width": _LENGTH, "height": _LENGTH, "d": _PATH_DATA, "fill": _COLOUR,
    "stroke": _COLOUR, "stroke-width": _LENGTH, "stroke-linecap": _WORD, "stroke-linejoin": _WORD,
    "cx": _LENGTH, "cy": _LENGTH, "r": _LENGTH, "x": _LENGTH, "y": _LENGTH, "x1": _LENGTH, "y1": _LENGTH,
    "x2": _LENGTH, "y2": _LENGTH, "points": _NUMBERS, "version": _LENGTH, "opacity": _LENGTH,
}  # fmt: skip
MARK_ELEMENTS = {"path", "circle", "line", "polyline"}
DATA_URL = re.compile(r"^data:image/(svg\+xml|png);base64,([A-Za-z0-9+/=\s]+)$")


def clean_signature(value):
    """The signature as a canonical data: URL (SVG or PNG). Refuses an empty drawing, another format,
    an oversized image and SVG carrying anything but strokes."""
    empty = ConsentRefused("The signer has not signed: draw the signature in the box.", code="signature")
    match = DATA_URL.match((value or "").strip())
    if not match:
        raise (
            empty
            if not (value or "").strip()
            else ConsentRefused("The signature must be an SVG or PNG drawing.")
        )
    kind, encoded = match.groups()
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ConsentRefused("The signature image is too large; please sign again.")
    if kind == "png":
        _check_png(raw, empty)
    else:
        _check_svg(raw, empty)
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def _check_png(raw, empty):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
        if image.format != "PNG" or image.width * image.height > 4000 * 2000:
            raise ConsentRefused("The signature must be a PNG drawing of reasonable size.")
        image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError) as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    if image.getchannel("A").getbbox() is None:
        raise empty


def _check_svg(raw, empty):
    text = raw.decode("utf-8", errors="replace")
    if "<!" in text or "<?xml-stylesheet" in text:  # no DOCTYPE or entities: nothing to expand or fetch
        raise ConsentRefused("The signature could not be read; please sign again.")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 (no DOCTYPE, so no entities: checked above)
    except ElementTree.ParseError as error:
        raise ConsentRefused("The signature could not be read; please sign again.") from error
    marks = 0
    for element in root.iter():
        name = element.tag.removeprefix(SVG_NS)
        # Elements of another namespace (or none) and text inside elements (CSS, scripts) are refused.
        if not isinstance(element.tag, str) or not element.tag.startswith(SVG_NS) or name not in SVG_ELEMENTS:
            raise ConsentRefused("The signature may only contain pen strokes.")
        if (element.text or "").strip() or (element.tail or "").strip():
            raise ConsentRefused("The signature may only contain pen strokes.")
        for attribute, attribute_value in element.attrib.items():
            shape = SVG_ATTRIBUTES.get(attribute)
            if shape is None or len(attribute_value) > 100_000 or not shape.match(attribute_value):
                raise ConsentRefused("The signature may only contain pen strokes.")
        marks += name in MARK_ELEMENTS
    if root.tag.removeprefix(SVG_NS) != "svg" or marks == 0:
        raise empty


# --- obtaining and withdrawing ----------------------------------------------------------------------
def obtain_consent(
    patient,
    *,
    decisions,
    explained_by,
    signer_name,
    signer_relationship=SignerRelationship.PATIENT,
    signature,
    form=None,
    recorded_by=None,
    submission_key=None,
    request=None,
):
    """Save a signed consent: `decisions` maps each RiskItem (or its id) of the current version to True
    (accepted) or False (declined). Audited (Action.SIGN).

    Refuses: an archived patient; a version that is not the current one; a decision missing for any
    risk, or given for a risk of another version; an explainer who is not a physiotherapist; a signer
    without a name or with an unknown relationship; an empty or unreadable signature. A second submission
    of the same page (same submission_key) raises DuplicateSubmission carrying the first record."""
    errors = {}
    if patient.archived_at is not None:
        raise ConsentRefused("This patient is archived; restore the patient before obtaining consent.")
    current = current_form()
    form = form or current
    if form is None or current is None:
        raise ConsentRefused("No consent form version is published yet; ask the administrator.")
    if form.pk != current.pk:
        raise ConsentRefused(
            f"Version {form.version} is no longer the current form; version {current.version} replaced it. "
            "Open the consent page again."
        )
    if submission_key is not None:
        existing = ConsentRecord.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            raise DuplicateSubmission(existing)
    risks = {item.pk: item for item in RiskItem.objects.filter(form=form)}
    answers = {}
    for key, accepted in dict(decisions).items():
        risk_id = getattr(key, "pk", key)
        try:
            risk_id = int(risk_id)
        except (TypeError, ValueError):
            risk_id = None
        if risk_id not in risks:
            raise ConsentRefused("A decision was given for a risk that is not on this version of the form.")
        if accepted not in (True, False):
            raise ConsentRefused("Each risk must be accepted or declined.")
        answers[risk_id] = accepted
    missing = [item for item in risks.values() if item.pk not in answers]
    if missing:
        errors["decisions"] = (
            "Accept or decline every risk: " + ", ".join(item.title for item in missing) + "."
        )
    if explained_by is None or not explained_by.has_role(Role.PHYSIO):
        errors["explained_by"] = "Consent is explained by a physiotherapist."
    signer_name = (signer_name or "").strip()
    if not signer_name:
        errors["signer_name"] = "Enter the name of the person signing."
    if signer_relationship not in SignerRelationship.values:
        errors["signer_relationship"] = "Choose how the signer relates to the patient."
    try:
        signature = clean_signature(signature)
    except ConsentRefused as error:
        errors["signature"] = error.messages[0]
    if errors:
        raise ConsentRefused(errors)
    consent = ConsentRecord(
        patient=patient,
        form=form,
        explained_by=explained_by,
        signer_name=signer_name,
        signer_relationship=signer_relationship,
        signature=signature,
        signed_at=timezone.now(),
        submission_key=submission_key or uuid.uuid4(),
    )
    try:
        with audited_transaction():
            consent.save(force_insert=True)
            RiskDecision.objects.bulk_create(
                [
                    RiskDecision(record=consent, risk_item_id=risk_id, accepted=answers[risk_id])
                    for risk_id in risks
                ]
            )
            # The detail names the version only: the chart's recent activity shows it to the front desk
            # too, which may know whether consent is on file, not what was declined.
            audit(
                Action.SIGN,
                request=request,
                user=recorded_by,
                obj=consent,
                patient_id=patient.pk,
                detail=f"consent on version {form.version}",
            )
    except IntegrityError as error:
        existing = ConsentRecord.objects.filter(submission_key=consent.submission_key).first()
        if existing is not None:
            raise DuplicateSubmission(existing) from error
        raise
    return consent


def withdraw_consent(record, *, by, reason, request=None):
    """Withdraw a consent from now on: it grants nothing afterwards. Audited (Action.WITHDRAW).

    Refuses a consent already withdrawn, a withdrawal without a reason, and anyone but a clinician."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsentRefused({"reason": "Give the reason for the withdrawal."})
    if by is None or not by.is_clinical:
        raise ConsentRefused("Only a clinician records a withdrawal of consent.")
    with audited_transaction():
        locked = ConsentRecord.objects.select_for_update().get(pk=record.pk)
        if locked.withdrawn_at is not None:
            raise ConsentRefused(f"This consent was already withdrawn on {locked.withdrawn_at:%Y-%m-%d}.")
        record.withdrawn_at = timezone.now()
        record.withdrawn_by = by
        record.withdrawal_reason = reason
        record.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit(
            Action.WITHDRAW,
            request=request,
            user=by,
            obj=record,
            patient_id=record.patient_id,
            detail="withdrawn",
        )
    return record


# --- what consent allows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionStatus:
    region: str
    allowed: bool
    label: str
    record: ConsentRecord | None = None
    # Why the region is (not) allowed; label and colour follow from it (consent/states.py).
    state: RegionState = RegionState.NONE
    reconsent_version: str = ""
    colour: str = STATE_COLOURS[RegionState.NONE]

    @property
    def on_file(self):
        """A signed, current, not withdrawn consent accepting this region's risks is on file: all the
        front desk may know."""
        return self.allowed

    def __str__(self):
        return self.label


def _status(region, state, consent=None, reconsent_version="", general_allowed=True):
    """A region's status in `state`, labelled and coloured by consent.states.state_badge."""
    label, colour = state_badge(
        state, record=consent, reconsent_version=reconsent_version, general_allowed=general_allowed
    )
    allowed = state == RegionState.ACCEPTED and general_allowed
    return RegionStatus(region, allowed, label, consent, state, reconsent_version, colour)


def _region_status(region, decisions_by_record):
    """The status of one region from the patient's counting records (newest first)."""
    for consent, decisions in decisions_by_record:
        if consent.reconsent_version:
            continue
        answers = [accepted for item_region, accepted in decisions if item_region == region]
        if not answers:
            continue
        if consent.withdrawn_now:
            return _status(region, RegionState.WITHDRAWN, consent)
        if not all(answers):
            return _status(region, RegionState.DECLINED, consent)
        return _status(region, RegionState.ACCEPTED, consent)
    for consent, decisions in decisions_by_record:
        if consent.reconsent_version and any(item_region == region for item_region, _ in decisions):
            return _status(region, RegionState.RECONSENT, consent, consent.reconsent_version)
    return _status(region, RegionState.NONE)


def _reconsent_versions_after(form_ref, at):
    """Versions requiring re-consent, in effect at `at`, that came into effect after the version the
    OuterRef `form_ref` points at, newest first."""
    return ConsentForm.objects.filter(
        Q(effective_date__gt=OuterRef(f"{form_ref}__effective_date"))
        | Q(
            effective_date=OuterRef(f"{form_ref}__effective_date"),
            published_at__gt=OuterRef(f"{form_ref}__published_at"),
        ),
        requires_reconsent=True,
        published_at__lte=at,
        effective_date__lte=timezone.localdate(at),
    ).order_by("-effective_date", "-published_at", "-id")


def consent_status(patients, at=None):
    """{patient_id: {Region: RegionStatus}} for the given patients (objects or ids) at `at` (now by
    default). One query whatever the number of patients: every decision of their consents signed by
    then, each with the newest re-consent version (if any) that supersedes its record's version."""
    at = at or timezone.now()
    ids = [getattr(p, "pk", p) for p in patients]
    if not ids:
        return {}
    rows = (
        RiskDecision.objects.filter(record__patient_id__in=ids, record__signed_at__lte=at)
        .annotate(
            reconsent_version=Subquery(_reconsent_versions_after("record__form", at).values("version")[:1])
        )
        .select_related("record__form", "record__explained_by", "risk_item")
        # The signature (up to 512 kB each) and the form's text are not needed to answer; leave them.
        .defer("record__signature", "record__form__body", "risk_item__description")
        .order_by("record__patient_id", "-record__signed_at", "-record_id")
    )
    by_patient = {pk: [] for pk in ids}
    seen = {}
    for decision in rows:
        consent = seen.get(decision.record_id)
        if consent is None:
            consent = seen[decision.record_id] = decision.record
            consent.withdrawn_now = consent.withdrawn_at is not None and consent.withdrawn_at <= at
            consent.reconsent_version = decision.reconsent_version or ""
            by_patient[consent.patient_id].append((consent, []))
        by_patient[consent.patient_id][-1][1].append((decision.risk_item.region, decision.accepted))
    return {pk: _with_general_first(records) for pk, records in by_patient.items()}


def _with_general_first(records):
    """Every region's status; a risk region accepted while the general risks are not allowed grants
    nothing either (no needling at all without the general consent), and says why."""
    statuses = {region: _region_status(region, records) for region in Region}
    if not statuses[Region.GENERAL].allowed:
        for region in RISK_REGIONS:
            status = statuses[region]
            if status.allowed:
                statuses[region] = _status(region, status.state, status.record, general_allowed=False)
    return statuses


def allowed_regions(patient, at=None):
    """The regions that may be needled for the patient at `at` (now by default). Empty unless the general
    risks of needling are accepted on a current, signed, not withdrawn consent (no needling at all without
    it); then the general region and every risk region whose risks the patient accepted too."""
    pk = getattr(patient, "pk", patient)
    statuses = consent_status([pk], at=at)[pk]
    if not statuses[Region.GENERAL].allowed:
        return frozenset()
    return frozenset({Region.GENERAL} | {region for region in RISK_REGIONS if statuses[region].allowed})


def _patient_name(patient):
    if hasattr(patient, "full_name"):
        return patient.full_name
    from patients.models import Patient

    found = Patient.objects.filter(pk=patient).first()
    return found.full_name if found is not None else f"patient {patient}"


def _general_refusal(patient, status):
    """Why no point at all may be needled, from the general region's status."""
    consent = status.record
    who = _patient_name(patient)
    if status.state == RegionState.WITHDRAWN:
        day = f"{timezone.localtime(consent.withdrawn_at):%Y-%m-%d}"
        return (
            f"The consent for needling was withdrawn on {day}: no point may be needled for {who} until "
            "a new consent is signed."
        )
    if status.state == RegionState.DECLINED:
        day = f"{timezone.localtime(consent.signed_at):%Y-%m-%d}"
        return (
            f"The general risks of needling were declined on {day}: no point may be needled for {who} "
            "unless a new consent accepting them is signed."
        )
    if status.state == RegionState.RECONSENT:
        return (
            f"{who} needs to re-consent on form version {status.reconsent_version}: no point may be "
            "needled until the new version is signed."
        )
    return (
        f"No consent for needling is on file for {who}: obtain a signed consent accepting the general "
        "risks before adding any point."
    )


@dataclass(frozen=True)
class AllowingConsents:
    """The consents that allow a point: `general` (the general risks) and, for a neck or mid back point,
    `region`. A needle point refers to both (treatments' database trigger checks the references)."""

    general_id: int
    region_id: int | None = None


def consents_allowing(patient, region, at=None):
    """The consents allowing a point in `region` for the patient at `at` (now by default), as the database
    decides it (one query); refuses (NeedlingNotAllowed, the message naming what is missing and why) a
    point the consent does not cover. Every point needs the general risks of needling accepted on a
    current, signed, not withdrawn consent (DOMAIN.md: informed consent for any needling); a point in a
    risk region (the neck, the mid back: DESIGN.md rule 1) needs that region's risks accepted too. Any
    other region is decided by the general risks alone."""
    pk = getattr(patient, "pk", patient)
    at = at or timezone.now()
    risk = region in RISK_REGIONS
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT consent_allowing_record(%s, 'general', %s), "
            "CASE WHEN %s THEN consent_allowing_record(%s, %s, %s) END",
            [pk, at, risk, pk, str(region), at],
        )
        general_id, region_id = cursor.fetchone()
    if general_id is not None and (not risk or region_id is not None):
        return AllowingConsents(general_id, region_id)
    _refuse(patient, region, consent_status([pk], at=at)[pk])


def check_region_allowed(patient, region, at=None):
    """Refuse (NeedlingNotAllowed) a point in `region` the patient's consent does not cover at `at`: see
    consents_allowing(), which this asks."""
    consents_allowing(patient, region, at=at)


def _refuse(patient, region, statuses):
    """Raise NeedlingNotAllowed explaining, from the statuses, why a point in `region` is not allowed."""
    general = statuses[Region.GENERAL]
    if not general.allowed:
        raise NeedlingNotAllowed(_general_refusal(patient, general), code="consent_missing")
    if region not in RISK_REGIONS or statuses[region].allowed:
        # The words disagree with the database's decision: say no, plainly, rather than guess why.
        raise NeedlingNotAllowed(
            "The consent on file does not allow this point now: open the patient's consent to check it.",
            code="consent_missing",
        )
    region = Region(region)
    status = statuses[region]
    name = region.label.split(" (")[0].lower()
    consent = status.record
    if status.state == RegionState.WITHDRAWN:
        withdrawn = timezone.localtime(consent.withdrawn_at)
        why = f"the consent covering the {name} was withdrawn on {withdrawn:%Y-%m-%d}"
    elif status.state == RegionState.DECLINED:
        why = f"the patient declined the {name} risk on {timezone.localtime(consent.signed_at):%Y-%m-%d}"
    elif status.state == RegionState.RECONSENT:
        why = f"the patient needs to re-consent on form version {status.reconsent_version}"
    else:
        why = f"there is no consent on file for the {name} risk"
    raise NeedlingNotAllowed(
        f"Needling in the {region.label.lower()} region is not allowed: {why}.", code="consent_missing"
    )
