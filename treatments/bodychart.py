"""The body chart, drawn by the project as SVG: a front and a back outline, one clickable zone per body
region and side, and the session's points shown as numbered dots in their region and side. The same
SVG goes into the session page (zones are links that start a point there) and the PDF (no links)."""

from collections import defaultdict

from django.template.loader import render_to_string

from .models import BodyRegion

FIGURE_WIDTH = 160
GAP = 40
HEIGHT = 360
CENTRE = 80

# Zones as (view, x0, y0, x1, y1) of the half on the viewer's left; the other half is mirrored about the
# midline. Front view: the viewer's left is the patient's right. Back view: the viewer's left is the left.
ZONES = {
    BodyRegion.FACE_JAW: ("front", 62, 10, 80, 48),
    BodyRegion.NECK_ANTERIOR: ("front", 68, 48, 80, 64),
    BodyRegion.SHOULDER_FRONT: ("front", 24, 64, 46, 90),
    BodyRegion.CHEST: ("front", 46, 66, 80, 120),
    BodyRegion.UPPER_ARM_FRONT: ("front", 22, 90, 44, 178),
    BodyRegion.FOREARM_FRONT: ("front", 12, 180, 40, 274),
    BodyRegion.ABDOMEN: ("front", 46, 120, 80, 186),
    BodyRegion.HIP_FRONT: ("front", 46, 186, 80, 212),
    BodyRegion.THIGH_FRONT: ("front", 48, 212, 79, 276),
    BodyRegion.LEG_FRONT: ("front", 50, 280, 79, 348),
    BodyRegion.NECK_POSTERIOR: ("back", 60, 46, 80, 68),
    BodyRegion.SHOULDER_BACK: ("back", 24, 64, 50, 100),
    BodyRegion.UPPER_BACK: ("back", 50, 68, 80, 132),
    BodyRegion.UPPER_ARM_BACK: ("back", 22, 100, 44, 178),
    BodyRegion.FOREARM_BACK: ("back", 12, 180, 40, 274),
    BodyRegion.LOWER_BACK: ("back", 46, 132, 80, 188),
    BodyRegion.BUTTOCK: ("back", 46, 188, 80, 232),
    BodyRegion.THIGH_BACK: ("back", 48, 232, 79, 282),
    BodyRegion.CALF: ("back", 50, 284, 79, 348),
}
SIDE_NAMES = {"L": "left", "R": "right"}


def _half_box(region, side):
    """(x0, y0, x1, y1) in chart coordinates of the region on the patient's `side` ("L" or "R")."""
    view, x0, y0, x1, y1 = ZONES[region]
    viewer_left = (side == "R") if view == "front" else (side == "L")
    if not viewer_left:
        x0, x1 = 2 * CENTRE - x1, 2 * CENTRE - x0
    offset = 0 if view == "front" else FIGURE_WIDTH + GAP
    return x0 + offset, y0, x1 + offset, y1


def render(points=(), link=None, htmx=None, plain=False):
    """The chart as SVG, from treatments/svg/body_chart.svg: the template escapes every value, so the
    result is safe to show as it is. points: NeedlePoint rows (muscle selected). link(region, side) -> URL
    makes each zone a link (the session page); htmx(region, side) -> URL loads the add-point form for
    that zone in place. plain=True (the PDF) draws only the outline, the zones holding points and their
    dots: WeasyPrint lays out every text element on its own, slowly, and the points table beside the
    chart already numbers the points."""
    by_zone = defaultdict(list)
    for point in points:
        sides = ["L", "R"] if point.side == "B" else [point.side]
        for side in sides:
            by_zone[(point.muscle.body_region, side)].append(point.order)
    zones = []
    for region in ZONES:
        for side in ("L", "R"):
            orders = by_zone.get((region, side), [])
            if plain and not orders:
                continue
            x0, y0, x1, y1 = _half_box(region, side)
            zones.append(
                {
                    "region": region,
                    "side": side,
                    "label": f"{BodyRegion(region).label}, {SIDE_NAMES[side]}",
                    "x": x0,
                    "y": y0,
                    "width": x1 - x0,
                    "height": y1 - y0,
                    "fill": "rgba(31,78,121,.22)" if orders else "rgba(31,78,121,0)",
                    # The session page's script loads the point form in place (htmx does not cancel the
                    # default action of SVG links); without JavaScript the href opens the same form.
                    "href": link(region, side) if link is not None else None,
                    "point_form": htmx(region, side) if link is not None and htmx is not None else None,
                    "dots": [_dot(x0, y0, index, order) for index, order in enumerate(orders[:6])],
                }
            )
    width = 2 * FIGURE_WIDTH + GAP
    return render_to_string(
        "treatments/svg/body_chart.svg",
        {
            "width": width,
            "height": HEIGHT + 20,
            "back_offset": FIGURE_WIDTH + GAP,
            "front_centre": CENTRE,
            "back_centre": FIGURE_WIDTH + GAP + CENTRE,
            "caption_y": HEIGHT + 14,
            "front_left_x": FIGURE_WIDTH - 10,
            "back_right_x": FIGURE_WIDTH + GAP + 4,
            "right_x": width - 10,
            "zones": zones,
            "plain": plain,
            # Regions that are links make the chart a group of controls, not one image (axe: an image
            # holds no interactive element).
            "interactive": link is not None,
        },
    )


def _dot(x0, y0, index, order):
    """A point's numbered dot, up to three to a row from the zone's top left corner."""
    cx = x0 + 6 + (index % 3) * 9
    cy = y0 + 7 + (index // 3) * 10
    return {"cx": cx, "cy": cy, "text_y": cy + 2.5, "order": order}
