"""The body chart is drawn from a template that escapes every value: whatever a point or a URL holds comes
out as text or an attribute value, never as markup."""

import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

from django.utils.safestring import SafeString

from treatments import bodychart
from treatments.models import BodyRegion

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><svg onload=alert(1)><script>alert(1)</script>'


def point(order, region=BodyRegion.CALF, side="L"):
    return SimpleNamespace(order=order, side=side, muscle=SimpleNamespace(body_region=region))


def test_a_hostile_point_number_comes_out_as_text():
    svg = bodychart.render([point(HOSTILE)])
    root = ET.fromstring(svg)
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}svg") is None
    assert HOSTILE in [text.text for text in root.iter(f"{SVG}text")]


def test_hostile_zone_links_stay_inside_their_attributes():
    svg = bodychart.render([point(1)], link=lambda region, side: HOSTILE, htmx=lambda region, side: HOSTILE)
    root = ET.fromstring(svg)
    zones = list(root.iter(f"{SVG}a"))
    assert len(zones) == 2 * len(bodychart.ZONES)
    assert all(a.get("href") == HOSTILE and a.get("data-point-form") == HOSTILE for a in zones)
    assert all(
        set(a.attrib) == {"href", "data-point-form", "class", "data-region", "data-side", "aria-label"}
        for a in zones
    )
    assert root.find(f".//{SVG}script") is None


def test_the_chart_is_safe_to_show_without_the_safe_filter():
    assert isinstance(bodychart.render([point(1)]), SafeString)


def test_a_point_on_both_sides_draws_a_dot_in_each_half():
    root = ET.fromstring(bodychart.render([point(3, BodyRegion.CHEST, "B")]))
    dots = [
        (g.get("data-region"), g.get("data-side"))
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "chart-point"
    ]
    assert dots == [("chest", "L"), ("chest", "R")]


def test_the_pdf_chart_draws_only_zones_with_points_and_no_text():
    root = ET.fromstring(bodychart.render([point(1), point(2)], plain=True))
    zones = root.find(f"{SVG}path[@class='chart-zones']")
    assert zones.get("data-zones") == "calf-L" and zones.get("d").count("M") == 1
    assert root.find(f"{SVG}path[@class='chart-points']").get("d").count("M") == 2  # a dot per point
    assert list(root.iter(f"{SVG}text")) == [] and list(root.iter(f"{SVG}title")) == []
    assert list(root.iter(f"{SVG}rect")) == [] and list(root.iter(f"{SVG}circle")) == []


def test_the_pdf_chart_draws_a_point_on_both_sides_in_each_half_and_at_most_six_dots_a_zone():
    points = [point(1, BodyRegion.CHEST, "B")] + [
        point(order, BodyRegion.CALF, "R") for order in range(2, 10)
    ]
    root = ET.fromstring(bodychart.render(points, plain=True))
    assert root.find(f"{SVG}path[@class='chart-zones']").get("data-zones") == "chest-L chest-R calf-R"
    assert root.find(f"{SVG}path[@class='chart-points']").get("d").count("M") == 2 + 6


def test_the_pdf_chart_of_no_point_is_the_outline_alone():
    root = ET.fromstring(bodychart.render([], plain=True))
    assert root.find(f"{SVG}path[@class='chart-zones']") is None
    assert root.find(f"{SVG}path[@class='chart-points']") is None


def test_the_pdf_outline_is_every_shape_of_both_figures_in_layers_that_keep_the_drawing_order():
    """body_outline.svg's 11 shapes, front and back (22 closed subpaths), as the screen draws them: a
    shape after every earlier one it overlaps (head, neck, trunk, arms and legs, forearms, hands)."""
    root = ET.fromstring(bodychart.render([], plain=True))
    layers = [path.get("d") for path in root.iter(f"{SVG}path")]
    assert [d.count("Z") for d in layers] == [2, 2, 2, 8, 4, 4]
    assert all("A" not in d and "a" not in d for d in layers)  # no elliptical arc to work out
    head = [float(n) for n in re.findall(r"[\d.]+", layers[0])]
    assert min(head[0::2]) == 62 and max(head[0::2]) == 98 + bodychart.FIGURE_WIDTH + bodychart.GAP
