"""Reads of consent: the form versions in effect, each region's status for a patient, and the one answer the
needling work asks: may this patient be needled now, and in which regions. Nothing here writes; the
services (consent/services/) publish versions and obtain and withdraw consents.

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
it in words for screens and messages (tests/treatments/test_needle_point_consent.py holds the two together).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from .errors import NeedlingNotAllowed
from .models import RISK_REGIONS, ConsentForm, Region
from .states import STATE_COLOURS, RegionState, state_badge


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


# --- what consent allows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsentOnFile:
    """The consent record that decided a region's status, as the plain values screens and messages show
    (no model object: consent_status answers for every patient of a page, on every page)."""

    pk: int
    signed_at: datetime
    withdrawn_at: datetime | None
    form_version: str


@dataclass(frozen=True)
class RegionStatus:
    region: str
    allowed: bool
    label: str
    record: ConsentOnFile | None = None
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


def _region_status(region, decisions_by_record, at):
    """The status of one region from the patient's counting records (newest first): each
    (ConsentOnFile, reconsent version, [(region, accepted)])."""
    for consent, reconsent_version, decisions in decisions_by_record:
        if reconsent_version:
            continue
        answers = [accepted for item_region, accepted in decisions if item_region == region]
        if not answers:
            continue
        if consent.withdrawn_at is not None and consent.withdrawn_at <= at:
            return _status(region, RegionState.WITHDRAWN, consent)
        if not all(answers):
            return _status(region, RegionState.DECLINED, consent)
        return _status(region, RegionState.ACCEPTED, consent)
    for consent, reconsent_version, decisions in decisions_by_record:
        if reconsent_version and any(item_region == region for item_region, _ in decisions):
            return _status(region, RegionState.RECONSENT, consent, reconsent_version)
    return _status(region, RegionState.NONE)


# Every decision of the patients' consents signed by `at`, each with the newest version requiring
# re-consent that supersedes its record's version (in effect at `at`: published by then, effective by its
# local date; after the record's version: a later effective date, or the same date published later), or
# NULL. Ordered as the statuses read them: by patient, newest record first (then the decision, so that
# the order is fixed). Raw for speed (issue 17): Django compiled the same query, with its subquery, on
# every page that shows a badge, for a fifth of the page's time. tests/consent/test_status_sql.py holds it
# to the ORM query it replaced, on varied fixtures.
CONSENT_STATUS_SQL = """
SELECT d.record_id, r.patient_id, r.signed_at, r.withdrawn_at, f.version,
       (SELECT n.version
          FROM consent_consentform n
         WHERE n.requires_reconsent
           AND n.published_at <= %(at)s
           AND n.effective_date <= %(today)s
           AND (n.effective_date > f.effective_date
                OR (n.effective_date = f.effective_date AND n.published_at > f.published_at))
         ORDER BY n.effective_date DESC, n.published_at DESC, n.id DESC
         LIMIT 1),
       i.region, d.accepted
  FROM consent_riskdecision d
  JOIN consent_consentrecord r ON r.id = d.record_id
  JOIN consent_consentform f ON f.id = r.form_id
  JOIN consent_riskitem i ON i.id = d.risk_item_id
 WHERE r.patient_id = ANY(%(ids)s) AND r.signed_at <= %(at)s
 ORDER BY r.patient_id, r.signed_at DESC, d.record_id DESC, d.id
"""


def consent_status(patients, at=None):
    """{patient_id: {Region: RegionStatus}} for the given patients (objects or ids) at `at` (now by
    default). One fixed statement whatever the number of patients (CONSENT_STATUS_SQL), read as plain
    values: every decision of their consents signed by then, each with the newest re-consent version (if
    any) that supersedes its record's version. Pages use consent_status_on_page(), which asks once per
    request."""
    ids = [getattr(p, "pk", p) for p in patients]
    if not ids:
        return {}
    at = at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(CONSENT_STATUS_SQL, {"ids": ids, "at": at, "today": timezone.localdate(at)})
        rows = cursor.fetchall()
    by_patient = {pk: [] for pk in ids}
    last = None
    for record_id, patient_id, signed_at, withdrawn_at, version, reconsent, region, accepted in rows:
        if record_id != last:
            last = record_id
            consent = ConsentOnFile(record_id, signed_at, withdrawn_at, version)
            by_patient[patient_id].append((consent, reconsent or "", []))
        by_patient[patient_id][-1][2].append((region, accepted))
    return {pk: _with_general_first(records, at) for pk, records in by_patient.items()}


@dataclass(frozen=True)
class RecordListed:
    """A signed consent as the chart's consent panel lists it, in plain values: no model object, and not
    the signature image the ORM would read with each record (up to 512 KiB each)."""

    pk: int
    signed_at: datetime
    withdrawn_at: datetime | None
    form_version: str
    explained_by: str  # the clinician, as accounts' User shows one: the full name, else the e-mail


# The patient's most recent signed consents, newest first (ConsentRecord's own order), with the version
# signed and who explained it. Raw for speed (issue 17): the ORM read every column of the record, its
# form and the clinician, the signature image included, for one line each on every chart.
RECENT_RECORDS_SQL = """
SELECT r.id, r.signed_at, r.withdrawn_at, f.version, u.full_name, u.email
  FROM consent_consentrecord r
  JOIN consent_consentform f ON f.id = r.form_id
  JOIN accounts_user u ON u.id = r.explained_by_id
 WHERE r.patient_id = %s
 ORDER BY r.signed_at DESC, r.id DESC
 LIMIT %s
"""


def recent_records(patient, limit):
    """The patient's `limit` most recent signed consents (withdrawn ones included), newest first, as
    RecordListed: one fixed statement (RECENT_RECORDS_SQL)."""
    with connection.cursor() as cursor:
        cursor.execute(RECENT_RECORDS_SQL, [getattr(patient, "pk", patient), limit])
        rows = cursor.fetchall()
    return [
        RecordListed(pk, signed_at, withdrawn_at, version, full_name or email)
        for pk, signed_at, withdrawn_at, version, full_name, email in rows
    ]


# The statuses a request has shown, by patient id (issue 17): set for each request by
# consent.middleware.consent_status_once_per_request, None outside a request.
_shown = ContextVar("consent_status_shown", default=None)


@contextmanager
def statuses_kept_for_request():
    """Within it, consent_status_on_page() asks the database once per patient (the request's span)."""
    token = _shown.set({})
    try:
        yield
    finally:
        _shown.reset(token)


def forget_statuses():
    """Drop what the request has shown: a consent obtained or withdrawn, or a version published, changes
    it (the consent services call this after each write)."""
    shown = _shown.get()
    if shown is not None:
        shown.clear()


def consent_status_on_page(patients):
    """consent_status() now, for showing: within a request, asked once per patient, so that the parts of
    one page that show the same patients (the chart's badges and consent panel; My day's badges and
    consent column; the session screen) ask the database once. Only for showing: a decision to needle
    asks the database itself (consents_allowing()). Outside a request it is consent_status()."""
    shown = _shown.get()
    if shown is None:
        return consent_status(patients)
    ids = [getattr(p, "pk", p) for p in patients]
    missing = [pk for pk in dict.fromkeys(ids) if pk not in shown]
    if missing:
        shown.update(consent_status(missing))
    return {pk: shown[pk] for pk in ids}


def _with_general_first(records, at):
    """Every region's status; a risk region accepted while the general risks are not allowed grants
    nothing either (no needling at all without the general consent), and says why."""
    statuses = {region: _region_status(region, records, at) for region in Region}
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
    decided = consents_allowing_regions(patient, [region], at=at)[region]
    if isinstance(decided, NeedlingNotAllowed):
        raise decided
    return decided


def consents_allowing_regions(patient, regions, at=None):
    """{region: AllowingConsents, or the NeedlingNotAllowed saying why not} for each of `regions`, the
    patient's consent asked once for all of them (consents_allowing() for many points at once: one query
    whatever the number of regions, and one more, consent_status(), only when one is refused, to say why).
    """
    pk = getattr(patient, "pk", patient)
    at = at or timezone.now()
    risks = sorted({str(region) for region in regions if region in RISK_REGIONS})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT consent_allowing_record(%s, 'general', %s)"
            + "".join(", consent_allowing_record(%s, %s, %s)" for _ in risks),
            [pk, at, *(value for region in risks for value in (pk, region, at))],
        )
        general_id, *region_ids = cursor.fetchone()
    by_risk = dict(zip(risks, region_ids, strict=True))
    decided, statuses = {}, None
    for region in regions:
        risk = region in RISK_REGIONS
        region_id = by_risk.get(str(region)) if risk else None
        if general_id is not None and (not risk or region_id is not None):
            decided[region] = AllowingConsents(general_id, region_id)
            continue
        if statuses is None:
            statuses = consent_status([pk], at=at)[pk]
        try:
            _refuse(patient, region, statuses)
        except NeedlingNotAllowed as refused:
            decided[region] = refused
    return decided


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
