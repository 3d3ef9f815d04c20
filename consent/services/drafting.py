"""Drafting a consent form version in the app: a new draft copied from the current version (text and
risks), edited until it reads right, compared with the version before it, then published
(publishing.py). A published version is never edited here: patients may already have signed it, and the
record must show exactly what they read (a new wording is a new draft)."""

import difflib
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction
from audit.services import record as audit

from ..errors import ConsentRefused
from ..models import ConsentForm, Region, RiskItem
from ..selectors import current_form


@dataclass(frozen=True)
class RiskText:
    """One risk of a draft as the administrator wrote it."""

    region: str
    title: str
    description: str
    order: int = 0


def check_administrator(by):
    if not by.has_role(Role.ADMIN):
        raise ConsentRefused("Only an administrator drafts consent form versions.")


def check_draft(form):
    if form.pk is not None and ConsentForm.objects.filter(pk=form.pk, published_at__isnull=False).exists():
        raise ConsentRefused(
            f"Version {form.version} is published and can no longer be edited: draft a new version from it."
        )


def next_version(version):
    """The version after `version` that none holds yet: 2026.2 -> 2026.3; otherwise `<version> draft`."""
    taken = set(ConsentForm.objects.values_list("version", flat=True))
    match = re.fullmatch(r"(.*?)(\d+)", version)
    candidates = []
    if match:
        prefix, number = match.groups()
        candidates = [f"{prefix}{int(number) + step}" for step in range(1, 50)]
    candidates += [f"{version} draft"] + [f"{version} draft {n}" for n in range(2, 50)]
    return next(candidate for candidate in candidates if candidate not in taken and len(candidate) <= 40)


def draft_from_current(*, by, request=None):
    """A new draft copying the current version's title, text and risks (each region's), effective today,
    numbered after it; an empty draft with only a general risk to write when nothing is published yet.
    Refuses anyone but an administrator."""
    check_administrator(by)
    source = current_form() or ConsentForm.objects.filter(published_at__isnull=False).first()
    today = timezone.localdate()
    with audited_transaction():
        if source is None:
            draft = ConsentForm.objects.create(
                title="Consent to IMS / dry needling",
                version=next_version(str(today.year) + ".0"),
                effective_date=today,
                body="",
            )
            risks = []
        else:
            draft = ConsentForm.objects.create(
                title=source.title,
                version=next_version(source.version),
                effective_date=today,
                body=source.body,
            )
            risks = [
                RiskItem(form=draft, region=r.region, title=r.title, description=r.description, order=r.order)
                for r in source.risks.all()
            ]
            RiskItem.objects.bulk_create(risks)
        copied = f" from version {source.version}" if source else ""
        audit(
            Action.CREATE,
            request=request,
            user=by,
            obj=draft,
            detail=f"draft version {draft.version}{copied}",
        )
    return draft


def save_draft(form, *, risks, by, request=None):
    """Save a draft's fields (already set on `form`) and replace its risks with `risks` (RiskText).
    Refuses a published version, anyone but an administrator, a draft without text, and one without a
    general risk (publishing would refuse it too; said now, beside the work)."""
    check_administrator(by)
    check_draft(form)
    if not form.body.strip():
        raise ConsentRefused({"body": "Write the text the patient reads before the risks."})
    if not any(risk.region == Region.GENERAL for risk in risks):
        raise ConsentRefused("A consent form needs the general risks of needling: add a General risk.")
    try:
        form.full_clean()
    except ValidationError as invalid:
        raise ConsentRefused(invalid.message_dict) from invalid
    with audited_transaction():
        form.save()
        RiskItem.objects.filter(form=form).delete()
        RiskItem.objects.bulk_create(
            RiskItem(form=form, region=r.region, title=r.title, description=r.description, order=r.order)
            for r in risks
        )
        audit(
            Action.UPDATE, request=request, user=by, obj=form, detail=f"draft version {form.version} edited"
        )
    return form


def previous_version(form):
    """The published version a draft is compared with: the one in effect now (or, for a published
    version, the newest published before it); None for the first."""
    if not form.is_published:
        return current_form() or ConsentForm.objects.filter(published_at__isnull=False).first()
    return (
        ConsentForm.objects.filter(published_at__lt=form.published_at)
        .order_by("-published_at", "-id")
        .first()
    )


def version_lines(form):
    """A version as the lines a reader compares: its heading, text, then each risk, in order."""
    if form is None:
        return []
    lines = [f"Title: {form.title}", f"Version: {form.version}", f"Effective: {form.effective_date:%Y-%m-%d}"]
    lines.append("Requires re-consent: " + ("yes" if form.requires_reconsent else "no"))
    lines += ["", *form.body.splitlines(), ""]
    for risk in form.risks.all():
        lines.append(f"Risk ({Region(risk.region).label}): {risk.title}")
        lines += [f"    {line}" for line in risk.description.splitlines()]
    return lines


def version_changes(form, previous):
    """[(kind, text)] of the lines that differ between `previous` and `form`, with a little context:
    kind is "added", "removed" or "same" (difflib on whole lines; the template escapes the text)."""
    kinds = {"+": "added", "-": "removed", " ": "same"}
    changes = []
    diff = list(difflib.unified_diff(version_lines(previous), version_lines(form), lineterm="", n=2))
    for line in diff[2:]:  # past the two file headers ("--- ", "+++ ")
        if line.startswith("@@"):
            changes.append(("gap", "…"))
            continue
        changes.append((kinds[line[0]], line[1:]))
    return changes
