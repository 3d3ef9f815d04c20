"""The body chart, drawn by the project as SVG: a front and a back outline, one clickable zone per body
region and side, and the session's points shown as numbered dots in their region and side. The same
SVG goes into the session page (zones are links that start a point there) and the PDF (no links)."""

from collections import defaultdict

from django.utils.html import escape

from .models import BodyRegion

FIGURE_WIDTH = 160
GAP = 40
HEIGHT = 360
CENTRE = 80

# Outline of one figure (front and back share it): head, neck, trunk, arms, forearms, hands, legs.
OUTLINE = (
    '<ellipse cx="80" cy="28" rx="18" ry="22"/>'
    '<rect x="70" y="48" width="20" height="18" rx="4"/>'
    '<path d="M44 66 Q80 58 116 66 L118 190 Q80 200 42 190 Z"/>'
    '<rect x="22" y="68" width="22" height="112" rx="10"/>'
    '<rect x="116" y="68" width="22" height="112" rx="10"/>'
    '<rect x="14" y="180" width="26" height="72" rx="10"/>'
    '<rect x="120" y="180" width="26" height="72" rx="10"/>'
    '<ellipse cx="26" cy="262" rx="11" ry="12"/><ellipse cx="134" cy="262" rx="11" ry="12"/>'
    '<rect x="48" y="188" width="31" height="160" rx="12"/>'
    '<rect x="81" y="188" width="31" height="160" rx="12"/>'
)

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
    """The chart as an SVG string. points: NeedlePoint rows (muscle selected). link(region, side) -> URL
    makes each zone a link (the session page); htmx(region, side) -> URL loads the add-point form for
    that zone in place. plain=True (the PDF) draws only the outline, the zones holding points and their
    dots: WeasyPrint lays out every text element on its own, slowly, and the points table beside the
    chart already numbers the points."""
    by_zone = defaultdict(list)
    for point in points:
        sides = ["L", "R"] if point.side == "B" else [point.side]
        for side in sides:
            by_zone[(point.muscle.body_region, side)].append(point.order)
    width = 2 * FIGURE_WIDTH + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT + 20}" class="body-chart" '
        f'role="img" aria-label="Body chart, front and back" width="{width}" height="{HEIGHT + 20}">',
        '<g fill="#f4f1ec" stroke="#7a7a7a" stroke-width="1.2">',
        OUTLINE,
        f'<g transform="translate({FIGURE_WIDTH + GAP} 0)">{OUTLINE}</g>',
        "</g>",
    ]
    if not plain:
        parts.append(
            f'<text x="{CENTRE}" y="{HEIGHT + 14}" text-anchor="middle" font-size="11">Front</text>'
            f'<text x="{FIGURE_WIDTH + GAP + CENTRE}" y="{HEIGHT + 14}" text-anchor="middle" '
            'font-size="11">Back</text>'
            f'<text x="4" y="10" font-size="8" fill="#555">R</text><text x="{FIGURE_WIDTH - 10}" y="10" '
            f'font-size="8" fill="#555">L</text><text x="{FIGURE_WIDTH + GAP + 4}" y="10" font-size="8" '
            f'fill="#555">L</text><text x="{width - 10}" y="10" font-size="8" fill="#555">R</text>'
        )
    for region in ZONES:
        for side in ("L", "R"):
            orders = by_zone.get((region, side), [])
            if plain and not orders:
                continue
            x0, y0, x1, y1 = _half_box(region, side)
            label = escape(f"{BodyRegion(region).label}, {SIDE_NAMES[side]}")
            fill = "rgba(31,78,121,.22)" if orders else "rgba(31,78,121,0)"
            title = "" if plain else f"<title>{label}</title>"
            rect = (
                f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="{fill}" '
                f'stroke="rgba(31,78,121,.35)" stroke-dasharray="2 2">{title}</rect>'
            )
            if link is not None:
                # The session page's script loads this form in place (htmx does not cancel the default
                # action of SVG links); without JavaScript the href opens the same narrowed form.
                hx = f' data-point-form="{escape(htmx(region, side))}"' if htmx is not None else ""
                parts.append(
                    f'<a href="{escape(link(region, side))}"{hx} class="chart-zone" data-region="{region}" '
                    f'data-side="{side}" aria-label="Start a point: {label}">{rect}</a>'
                )
            else:
                parts.append(rect)
            for index, order in enumerate(orders[:6]):
                cx = x0 + 6 + (index % 3) * 9
                cy = y0 + 7 + (index // 3) * 10
                number = (
                    ""
                    if plain
                    else f'<text x="{cx}" y="{cy + 2.5}" text-anchor="middle" font-size="6.5" '
                    f'fill="#fff">{order}</text>'
                )
                parts.append(
                    f'<g class="chart-point" data-region="{region}" data-side="{side}">'
                    f'<circle cx="{cx}" cy="{cy}" r="4.5" fill="#b3261e"/>{number}</g>'
                )
    parts.append("</svg>")
    return "".join(parts)
