"""Charts drawn on the server as SVG, each carrying the table of the same figures.

No charting library and no script: the page (and its screenshot, and a printout) shows the chart as
soon as the HTML arrives, clinic networks fetch nothing from elsewhere, and the table under each chart
gives screen readers and careful readers the exact numbers.
"""

import math
from dataclasses import dataclass, field

from django.template.loader import render_to_string

WIDTH = 640
COLOURS = ("#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545")


@dataclass
class Chart:
    """An SVG chart and the table of the very figures it draws."""

    key: str
    title: str
    columns: list
    rows: list = field(default_factory=list)
    svg: str = ""
    note: str = ""

    @property
    def empty(self):
        return not self.rows


def plain(value):
    """A figure as the table shows it: whole numbers with thousands separators, else one decimal."""
    if value is None:
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def nice_ceiling(value):
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value: round axis ends."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _draw(template, key, title, height, **marks):
    """The chart's SVG from reports/svg/<template>: the template escapes every value (names, labels,
    figures), so the result is safe to show as it is."""
    context = {
        "key": key,
        "title": title,
        "width": WIDTH,
        "height": height,
        "max_height": round(height * 1.4),
    }
    return render_to_string(f"reports/svg/{template}", context | marks)


def bar_chart(key, title, rows, *, label="", value="", fmt=plain, note=""):
    """Horizontal bars, one per (label, value) row, longest first as given; labels read left to right
    without rotating, which suits muscle and therapist names."""
    rows = [(str(name), number) for name, number in rows]
    chart = Chart(key=key, title=title, columns=[label, value], rows=rows, note=note)
    if not rows:
        chart.svg = _draw("bar_chart.svg", key, title, 40, empty=True)
        return chart
    bar, gap, top, label_width = 20, 8, 8, 210
    height = top + len(rows) * (bar + gap) + 8
    plot = WIDTH - label_width - 70
    ceiling = nice_ceiling(max((number or 0) for _, number in rows))
    bars = []
    for index, (name, number) in enumerate(rows):
        y = top + index * (bar + gap)
        length = 0 if not number else plot * number / ceiling
        bars.append(
            {
                "name": name,
                "value": number,
                "short": name if len(name) <= 32 else name[:31] + "…",
                "y": y,
                "text_y": y + 15,
                "length": f"{length:.2f}",
                "value_x": f"{label_width + length + 4:.2f}",
                "shown": fmt(number),
            }
        )
    chart.svg = _draw(
        "bar_chart.svg",
        key,
        title,
        height,
        bars=bars,
        label_x=label_width - 6,
        bar_x=label_width,
        bar_height=bar,
        colour=COLOURS[0],
    )
    return chart


def line_chart(key, title, x_labels, series, *, label="", fmt=plain, note=""):
    """A time series: x_labels (e.g. week starts) and series [(name, [value per label])], one line each,
    with a legend; the table has a column per series."""
    x_labels = [str(x) for x in x_labels]
    columns = [label] + [name for name, _ in series]
    rows = [[x] + [values[i] for _, values in series] for i, x in enumerate(x_labels)]
    chart = Chart(key=key, title=title, columns=columns, rows=rows, note=note)
    if not x_labels:
        chart.svg = _draw("line_chart.svg", key, title, 40, empty=True)
        return chart
    left, right, top, bottom, height = 56, 16, 28, 40, 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    figures = [v or 0 for _, values in series for v in values]
    ceiling = nice_ceiling(max(figures or [0]))
    if all(float(v).is_integer() for v in figures):
        ceiling = max(4, math.ceil(ceiling / 4) * 4)  # counts: whole-number grid lines
    count = len(x_labels)

    def x_at(i):
        return left + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    def y_at(v):
        return top + plot_h - plot_h * (v or 0) / ceiling

    ticks = []
    for tick in range(5):  # grid lines and the y axis
        v = ceiling * tick / 4
        y = y_at(v)
        ticks.append({"y": f"{y:.2f}", "text_y": f"{y + 4:.2f}", "shown": fmt(v)})
    every = max(1, math.ceil(count / 8))  # at most about 8 x labels, so they never overlap
    shown_labels = [
        {"x": f"{x_at(i):.2f}", "text": x}
        for i, x in enumerate(x_labels)
        # Every `every`th label and the last one, leaving out a regular label that would crowd the last.
        if i == count - 1 or (i % every == 0 and count - 1 - i >= every / 2)
    ]
    lines = []
    for n, (name, values) in enumerate(series):
        lines.append(
            {
                "name": name,
                "colour": COLOURS[n % len(COLOURS)],
                "points": " ".join(f"{x_at(i):.2f},{y_at(v):.2f}" for i, v in enumerate(values)),
                "dots": [
                    {"cx": f"{x_at(i):.2f}", "cy": f"{y_at(v):.2f}", "x": x_labels[i], "value": v}
                    for i, v in enumerate(values)
                ],
                "legend_x": left + n * 160,
                "legend_text_x": left + n * 160 + 16,
            }
        )
    chart.svg = _draw(
        "line_chart.svg",
        key,
        title,
        height,
        ticks=ticks,
        x_labels=shown_labels,
        lines=lines,
        left=left,
        right=WIDTH - right,
        tick_x=left - 6,
        x_label_y=height - bottom + 16,
    )
    return chart
