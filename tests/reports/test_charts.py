import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from reports.charts import bar_chart, line_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '"><svg onload=alert(1)><script>alert(1)</script>'


def parse(chart):
    return ET.fromstring(str(chart.svg))


def test_bars_are_as_long_as_their_values():
    chart = bar_chart("muscles", "Most needled muscles", [("Upper trapezius", 40), ("Gluteus medius", 10)])
    root = parse(chart)
    bars = {g.get("data-label"): g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g")}
    assert float(bars["Upper trapezius"].get("width")) == 4 * float(bars["Gluteus medius"].get("width"))
    assert root.find(f"{SVG}title").text == "Most needled muscles"


def test_the_table_holds_the_same_figures_as_the_bars():
    rows = [("Dr A", 12), ("Dr B", 7)]
    chart = bar_chart("per-therapist", "Sessions per therapist", rows, label="Therapist", value="Sessions")
    drawn = [(g.get("data-label"), int(g.get("data-value"))) for g in parse(chart).iter(f"{SVG}g")]
    assert drawn == chart.rows == rows
    assert chart.columns == ["Therapist", "Sessions"]


def test_labels_are_text_never_markup():
    chart = bar_chart("x", "<b>title</b>", [('<script>alert("x")</script>', 1)])
    root = parse(chart)
    assert root.find(f"{SVG}script") is None
    assert '<script>alert("x")</script>' in [g.get("data-label") for g in root.iter(f"{SVG}g")]


def test_a_hostile_bar_label_and_key_come_out_as_text():
    chart = bar_chart(HOSTILE, HOSTILE, [(HOSTILE, 1)])
    root = parse(chart)
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}svg") is None
    assert root.get("data-chart") == HOSTILE and root.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE[:31] + "…" in [t.text for t in root.iter(f"{SVG}text")]  # shortened, still text


def test_a_hostile_series_name_and_period_come_out_as_text():
    chart = line_chart("activity", HOSTILE, [HOSTILE, "2026-10-12"], [(HOSTILE, [1, 2])])
    root = parse(chart)
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}svg") is None
    assert [g.get("data-series") for g in root.iter(f"{SVG}g")] == [HOSTILE]
    assert [c.get("data-x") for c in root.iter(f"{SVG}circle")] == [HOSTILE, "2026-10-12"]
    assert HOSTILE in [t.text for t in root.iter(f"{SVG}text")]


def test_an_empty_chart_escapes_its_title_too():
    root = parse(line_chart("y", HOSTILE, [], []))
    assert root.find(f".//{SVG}script") is None and root.find(f"{SVG}title").text == HOSTILE


def test_a_chart_is_safe_to_show_without_the_safe_filter():
    assert isinstance(bar_chart("x", "t", [("a", 1)]).svg, SafeString)
    assert isinstance(line_chart("y", "t", ["w"], [("a", [1])]).svg, SafeString)


def test_a_time_series_draws_one_point_per_period_and_series():
    chart = line_chart(
        "activity",
        "Activity per week",
        ["2026-10-05", "2026-10-12", "2026-10-19"],
        [("Appointments", [10, 12, 0]), ("Sessions", [8, 9, 0])],
        label="Week",
    )
    root = parse(chart)
    series = {g.get("data-series"): g for g in root.iter(f"{SVG}g")}
    assert set(series) == {"Appointments", "Sessions"}
    values = [int(c.get("data-value")) for c in series["Appointments"].iter(f"{SVG}circle")]
    assert values == [10, 12, 0]
    assert chart.rows == [["2026-10-05", 10, 8], ["2026-10-12", 12, 9], ["2026-10-19", 0, 0]]
    # A higher value sits higher on the page (smaller y).
    ys = [float(c.get("cy")) for c in series["Appointments"].iter(f"{SVG}circle")]
    assert ys[1] < ys[0] < ys[2]


def test_no_data_says_so():
    assert "No data" in str(bar_chart("x", "Nothing", []).svg)
    assert line_chart("y", "Nothing", [], []).empty


def test_axis_ends_are_round_numbers():
    assert [nice_ceiling(v) for v in (0, 0.3, 7, 11, 23, 480, 1001)] == [1, 0.5, 10, 20, 25, 500, 2000]


def test_the_figures_table_escapes_every_cell_and_says_when_there_is_nothing():
    from reports.charts import table_rows

    chart = bar_chart("x", "t", [(HOSTILE, 1234), ("Gluteus medius", 2.5)])
    body = str(chart.table_rows)
    assert "<script>" not in body and "<svg" not in body
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<td>1234</td>" in body and "<td>2.5</td>" in body
    )
    assert (
        str(bar_chart("x", "t", []).table_rows) == '<tr><td colspan="2">No data for these filters.</td></tr>'
    )
    row = str(table_rows([(HOSTILE, 3, 4)], 3, ("", "text-end", "text-end")))
    assert row.count('<td class="text-end">') == 2 and "<script>" not in row


CELLS = [
    HOSTILE,
    "Zoë & <b>",
    "",
    0,
    -7,
    1234567,
    True,
    False,
    2.5,
    -0.125,
    1e21,
    None,
]


@pytest.mark.parametrize("separators", [False, True])
def test_a_cell_and_an_escaped_value_read_as_djangos_escape_and_localize_show_them(separators, settings):
    """charts.cell() and charts.escape() take shortcuts (issue 17); they must show what the template's
    escape(localize(value)) shows, thousands separators on or off, for text, lazy and safe text, whole
    numbers, bools, decimals, dates and None."""
    from datetime import date
    from decimal import Decimal

    from django.utils.formats import localize
    from django.utils.html import escape as django_escape
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from reports.charts import cell, escape

    settings.USE_THOUSAND_SEPARATOR = separators
    values = [*CELLS, mark_safe("<i>safe</i>"), gettext_lazy("Needling <sessions>"), Decimal("1234.50")]
    values.append(date(2026, 3, 8))
    for value in values:
        assert cell(value) == str(django_escape(localize(value))), value
        assert escape(value) == str(django_escape(value)), value
    assert (cell(1234567) == "1234567") is not separators  # grouped (en-ca: no-break spaces) when on
