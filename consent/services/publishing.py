"""Publishing a consent form version: from then on (its effective date reached) patients sign it."""

from django.utils import timezone

from accounts.models import Role
from audit.models import Action
from audit.services import audited_transaction
from audit.services import record as audit

from ..errors import ConsentRefused
from ..models import Region, RiskItem
from ..selectors import forget_statuses


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
    forget_statuses()
    return form
