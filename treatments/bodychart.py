"""The body chart, drawn by the project as SVG: a front and a back outline, one clickable zone per body
region and side, and the session's points shown as numbered dots in their region and side. The same
SVG goes into the session page (zones are links that start a point there) and the PDF (no links)."""

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import cache

from django.template.loader import render_to_string

from .models import BodyRegion
from .rendered import RenderedOnce

# The same points in the same zones with the same links draw the same chart: it is drawn once per
# distinct content (treatments/rendered.py); a point added, moved or removed is a new drawing.
CHARTS = RenderedOnce(size=256)

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
    chart already numbers the points; and it draws them as a handful of paths (print_chart)."""
    if plain:
        return print_chart(points)
    by_zone = _zone_orders(points)
    zones = []
    for region in ZONES:
        for side in ("L", "R"):
            orders = by_zone.get((region, side), [])
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
    context = {
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
        # Regions that are links make the chart a group of controls, not one image (axe: an image
        # holds no interactive element).
        "interactive": link is not None,
    }
    template = "treatments/svg/body_chart.svg"
    return CHARTS.get([template, context], lambda: render_to_string(template, context))


def _zone_orders(points):
    """{(region, side): [point numbers]}: a point on both sides is in both halves."""
    by_zone = defaultdict(list)
    for point in points:
        for side in ["L", "R"] if point.side == "B" else [point.side]:
            by_zone[(point.muscle.body_region, side)].append(point.order)
    return by_zone


def print_chart(points=()):
    """The PDF's chart (treatments/svg/body_chart_print.svg): the outline, the zones holding points and
    their dots, as the screen's chart draws them, in eight paths of lines and cubic curves instead of
    some forty shapes. WeasyPrint draws an SVG in Python element by element (each one's colours parsed
    and its graphic state set) and works out every elliptical arc with trigonometry of its own; a path of
    cubic curves it only reads. Measured in CPU time (docs/benchmarks.md, "Visit summary PDF"): the
    chart went from about 11 ms to 9 ms of a draft's render."""
    by_zone = _zone_orders(points)
    zones, dots, drawn = [], [], []
    for region in ZONES:
        for side in ("L", "R"):
            orders = by_zone.get((region, side))
            if not orders:
                continue
            x0, y0, x1, y1 = _half_box(region, side)
            zones.append(f"M{_n(x0)} {_n(y0)}H{_n(x1)}V{_n(y1)}H{_n(x0)}Z")
            drawn.append(f"{region}-{side}")
            for index, order in enumerate(orders[:6]):
                dot = _dot(x0, y0, index, order)
                dots.append(_ellipse(dot["cx"], dot["cy"], DOT_RADIUS, DOT_RADIUS))
    context = {
        "width": 2 * FIGURE_WIDTH + GAP,
        "height": HEIGHT + 20,
        "outline": _outline_layers(),
        "zones": "".join(zones),
        "zone_names": " ".join(drawn),
        "dots": "".join(dots),
    }
    template = "treatments/svg/body_chart_print.svg"
    return CHARTS.get([template, context], lambda: render_to_string(template, context))


DOT_RADIUS = 4.5
KAPPA = 0.5523  # a quarter ellipse as one cubic curve: control points this far along the tangents
SVG_NS = "{http://www.w3.org/2000/svg}"


def _n(value):
    """A coordinate as short as it reads: 12, 12.5, 12.25."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _curves(start, segments):
    return (
        f"M{_n(start[0])} {_n(start[1])}"
        + "".join(
            ("C" + " ".join(_n(v) for v in segment))
            if len(segment) == 6
            else f"L{_n(segment[0])} {_n(segment[1])}"
            for segment in segments
        )
        + "Z"
    )


def _ellipse(cx, cy, rx, ry):
    kx, ky = rx * KAPPA, ry * KAPPA
    return _curves(
        (cx + rx, cy),
        [
            (cx + rx, cy + ky, cx + kx, cy + ry, cx, cy + ry),
            (cx - kx, cy + ry, cx - rx, cy + ky, cx - rx, cy),
            (cx - rx, cy - ky, cx - kx, cy - ry, cx, cy - ry),
            (cx + kx, cy - ry, cx + rx, cy - ky, cx + rx, cy),
        ],
    )


def _rounded_rect(x, y, width, height, r):
    r = min(r, width / 2, height / 2)
    k = r * (1 - KAPPA)
    right, bottom = x + width, y + height
    return _curves(
        (x + r, y),
        [
            (right - r, y),
            (right - k, y, right, y + k, right, y + r),
            (right, bottom - r),
            (right, bottom - k, right - k, bottom, right - r, bottom),
            (x + r, bottom),
            (x + k, bottom, x, bottom - k, x, bottom - r),
            (x, y + r),
            (x, y + k, x + k, y, x + r, y),
        ],
    )


PATH_COMMAND = re.compile(r"([MLQCHVZ])([^MLQCHVZ]*)")


def _shifted(d, dx):
    """Path data `d` moved `dx` to the right (absolute M, L, Q, C, H, V and Z only: what the outline uses)."""
    if re.search(r"[^MLQCHVZ\d.\s,-]", d):
        raise ValueError(f"body_outline.svg: a path this cannot move: {d!r}")
    parts = []
    for command, arguments in PATH_COMMAND.findall(d):
        numbers = [float(n) for n in re.findall(r"-?[\d.]+", arguments)]
        if command in "MLQC":
            numbers = [n + dx if index % 2 == 0 else n for index, n in enumerate(numbers)]
        elif command == "H":
            numbers = [n + dx for n in numbers]
        parts.append(command + " ".join(_n(n) for n in numbers))
    return "".join(parts)


def _box(shape, number):
    """(x0, y0, x1, y1) around an outline shape, for telling which shapes overlap."""
    if "rx" in number and "cx" in number:
        return (
            number["cx"] - number["rx"],
            number["cy"] - number["ry"],
            number["cx"] + number["rx"],
            number["cy"] + number["ry"],
        )
    if "width" in number:
        return number["x"], number["y"], number["x"] + number["width"], number["y"] + number["height"]
    values = [float(n) for n in re.findall(r"-?[\d.]+", shape.get("d"))]
    xs, ys = values[0::2], values[1::2]
    return min(xs), min(ys), max(xs), max(ys)


@cache
def _outline_layers():
    """Both figures' outline (treatments/svg/body_outline.svg, which the screen's chart includes as it
    is) as a few paths, the back figure moved beside the front: its ellipses and rounded rectangles
    written as curves, its paths as they are. Each shape goes in the first layer after every earlier
    shape it overlaps, and the layers are drawn in order, so a shape still covers the outline of the
    shapes before it (the neck over the head's, the legs over the trunk's), as the file draws them."""
    markup = render_to_string("treatments/svg/body_outline.svg")
    # Our own template file, with no value in it from anyone: not untrusted XML.
    root = ET.fromstring(f'<g xmlns="http://www.w3.org/2000/svg">{markup}</g>')  # noqa: S314
    layers, placed = defaultdict(list), []
    for shape in root:
        number = {
            name: float(value) for name, value in shape.attrib.items() if re.fullmatch(r"[\d.]+", value)
        }
        tag = shape.tag.removeprefix(SVG_NS)
        box = _box(shape, number)
        layer = 1 + max((earlier for earlier, other in placed if _overlap(box, other)), default=-1)
        placed.append((layer, box))
        for dx in (0, FIGURE_WIDTH + GAP):
            if tag == "ellipse":
                d = _ellipse(number["cx"] + dx, number["cy"], number["rx"], number["ry"])
            elif tag == "rect":
                d = _rounded_rect(
                    number["x"] + dx, number["y"], number["width"], number["height"], number.get("rx", 0)
                )
            elif tag == "path":
                d = _shifted(shape.get("d"), dx)
            else:
                raise ValueError(f"body_outline.svg: no path for <{tag}>")
            layers[layer].append(d)
    return tuple("".join(layers[layer]) for layer in sorted(layers))


def _overlap(a, b):
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _dot(x0, y0, index, order):
    """A point's numbered dot, up to three to a row from the zone's top left corner."""
    cx = x0 + 6 + (index % 3) * 9
    cy = y0 + 7 + (index // 3) * 10
    return {"cx": cx, "cy": cy, "text_y": cy + 2.5, "order": order}
