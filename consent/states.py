"""What a region's consent status is called and how it looks: one state list, one function deciding each
state's label and colour, read by every page that shows consent (the chart panel, My day, the session
screen, the patient lists). The same state is the same colour everywhere."""

from enum import StrEnum

from django.utils import timezone


class RegionState(StrEnum):
    """Why a region may (or may not) be needled now, from the patient's newest counting consent."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    RECONSENT = "reconsent"  # a newer form version requires the patient to consent again
    NONE = "none"  # nothing on file for the region


# Bootstrap colours (text-bg-<colour>): green may be needled now; red the patient refused (declined or
# withdrew); amber something must be done (re-consent); grey nothing usable is on file.
ALLOWED_COLOUR = "success"
STATE_COLOURS = {
    RegionState.DECLINED: "danger",
    RegionState.WITHDRAWN: "danger",
    RegionState.RECONSENT: "warning",
    RegionState.NONE: "secondary",
    # Accepted but not allowed: the region's risks were accepted, the general risks were not (nothing is
    # needled without them); this region refused nothing, so it is grey, not red.
    RegionState.ACCEPTED: "secondary",
}


def state_badge(state, *, record=None, reconsent_version="", general_allowed=True):
    """(label, colour) of a region in `state`: the dates come from the consent `record` that decided it;
    an accepted region whose general risks are not accepted is shown as not allowed, saying why."""
    state = RegionState(state)
    if state == RegionState.WITHDRAWN:
        return f"Withdrawn {_day(record.withdrawn_at)}", STATE_COLOURS[state]
    if state == RegionState.DECLINED:
        return f"Declined {_day(record.signed_at)}", STATE_COLOURS[state]
    if state == RegionState.ACCEPTED:
        label = f"Accepted {_day(record.signed_at)}"
        if general_allowed:
            return label, ALLOWED_COLOUR
        return f"{label}, but not the general risks", STATE_COLOURS[state]
    if state == RegionState.RECONSENT:
        return f"Re-consent needed (version {reconsent_version})", STATE_COLOURS[state]
    return "No consent", STATE_COLOURS[state]


def _day(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d}"
