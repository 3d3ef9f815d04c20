"""Chart privacy: who among clinicians may open a chart (CHART_ACCESS).

- "all" (the default): every physiotherapist opens every chart, as DESIGN.md first said.
- "care_team": a physiotherapist opens the charts of patients on their schedule (an appointment with them,
  any status) or whom they treated (a needling session, a consent they explained); anyone else "breaks
  the glass": types why, the access is audited (Action.BREAK_GLASS, with the reason) and lasts
  BREAK_GLASS_HOURS for that patient, and the administrator sees every such access listed.
The administrator (who audits) and the front desk (demographics only) are not restricted.

Apps declare on their AppConfig, as hooks (lower apps never import higher ones):
    care_team = ["<app>.privacy.<function>"]     function(user, patient_id) -> bool
    chart_urls = {"<url name>": "<app>.privacy.<function>"}   function(url kwargs) -> patient id or None
ChartPrivacyMiddleware looks the resolved URL up in chart_urls, so every page, print and fragment of a
chart (the chart, its consents and their PDFs, sessions, their fragments and PDFs) is closed alike.
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.access import redirect_with_next
from accounts.models import Role
from audit.models import Action, AuditEvent
from audit.services import record

REASON_MIN = 10
REASON_MAX = 500


def _hooks(attribute):
    for config in apps.get_app_configs():
        value = getattr(config, attribute, None)
        if isinstance(value, dict):
            yield from value.items()
        elif value:
            yield from value


def chart_urls():
    """{url name: function(kwargs) -> patient id}, from every app's chart_urls."""
    return {name: import_string(dotted) for name, dotted in _hooks("chart_urls")}


def restricted(user):
    return settings.CHART_ACCESS == "care_team" and user.role == Role.PHYSIO


def on_care_team(user, patient_id):
    """Whether the patient is on this clinician's schedule or was treated by them (any app's say)."""
    return any(import_string(dotted)(user, patient_id) for dotted in _hooks("care_team"))


def glass_broken(user, patient_id, at=None):
    """Whether this clinician broke the glass for this patient within BREAK_GLASS_HOURS."""
    since = (at or timezone.now()) - timedelta(hours=settings.BREAK_GLASS_HOURS)
    return AuditEvent.objects.filter(
        action=Action.BREAK_GLASS, actor=user, patient_id=patient_id, at__gte=since
    ).exists()


def may_open_chart(user, patient_id):
    """Whether `user` may open this patient's chart now without breaking the glass."""
    if not restricted(user):
        return True
    return on_care_team(user, patient_id) or glass_broken(user, patient_id)


def break_the_glass(user, patient, *, reason, request=None):
    """Open a chart outside the care team for BREAK_GLASS_HOURS, audited with the reason. Refuses a reason
    shorter than REASON_MIN characters (or longer than REASON_MAX) and anyone CHART_ACCESS does not
    restrict (they need no glass broken)."""
    reason = " ".join(str(reason or "").split())
    if len(reason) < REASON_MIN:
        raise ValidationError(f"Say why you need this chart (at least {REASON_MIN} characters).")
    if len(reason) > REASON_MAX:
        raise ValidationError(f"Keep the reason under {REASON_MAX} characters.")
    if not restricted(user):
        raise ValidationError("Your role opens this chart without breaking the glass.")
    return record(
        Action.BREAK_GLASS,
        request=request,
        user=user,
        obj=patient,
        patient_id=patient.pk,
        detail=f"reason: {reason}",
    )


class ChartPrivacyMiddleware:
    """Sends a clinician outside the care team from any page of a chart to the break-the-glass page
    (audited as a refusal), when CHART_ACCESS is "care_team". Runs after AccessMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._urls = None

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        match = request.resolver_match
        if match is None or user is None or not user.is_authenticated or not restricted(user):
            return None
        if self._urls is None:
            self._urls = chart_urls()
        patient_of = self._urls.get(match.view_name)
        if patient_of is None:
            return None
        patient_id = patient_of(view_kwargs)
        if patient_id is None or may_open_chart(user, patient_id):
            return None
        record(
            Action.PERMISSION_DENIED,
            request=request,
            patient_id=patient_id,
            object_type="url",
            object_id=request.path[:64],
            detail=f"chart closed: not on the care team ({request.method} {request.path})"[:500],
        )
        return redirect_with_next(request, reverse("patients:break_glass", args=[patient_id]))


# --- this app's hooks --------------------------------------------------------------------------------------
def patient_of_chart(kwargs):
    return kwargs.get("pk")
