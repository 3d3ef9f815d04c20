"""Charts drawn on the server as SVG, each carrying the table of the same figures.

No charting library and no script: the page (and its screenshot, and a printout) shows the chart as
soon as the HTML arrives, clinic networks fetch nothing from elsewhere, and the table under each chart
gives screen readers and careful readers the exact numbers.
"""

import html
import math
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.formats import localize
from django.utils.safestring import mark_safe

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

    @property
    def table_rows(self):
        return table_rows(self.rows, len(self.columns))


def escape(value):
    """django.utils.html.escape's text: the standard library's escape of str(value), which Django's wraps,
    without its check of every argument for a lazy string and its safe-string result (a chart of weeks
    escapes a few hundred values: a tenth of the 90-day dashboard; issue 17). For f-strings that
    mark_safe() marks once whole."""
    return html.escape(str(value))


def cell(value):
    """A table cell as the template shows it, escape(localize(value)), with its two common cases done
    directly: text is shown as it is, and a whole number (not a bool) as its digits unless thousands
    separators are on (localize() then groups them)."""
    kind = type(value)
    if kind is str:
        return html.escape(value)
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)  # digits and a minus sign: nothing to escape
    return html.escape(str(localize(value)))


def table_rows(rows, width, classes=()):
    """A table's body rows, each figure shown as the template would (localised, escaped), with a cell's
    classes by column (`classes`): built as strings, like the SVG, for tables as long as the clinic's list
    of therapists. `width` columns say "No data for these filters." when there is no row."""
    if not rows:
        return mark_safe(  # noqa: S308 - a constant and a count
            f'<tr><td colspan="{width}">No data for these filters.</td></tr>'
        )
    opening = [f'<td class="{escape(c)}">' if c else "<td>" for c in classes] + ["<td>"] * width
    body = "".join(
        "<tr>" + "".join(f"{opening[n]}{cell(value)}</td>" for n, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    return mark_safe(body)  # noqa: S308 - every cell is escaped


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


FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _frame(key, title, height, marks=None):
    """The SVG frame every report chart shares, around its marks (None: "No data"). Built as strings, not
    through a template: a year's dashboard draws hundreds of marks, and the template engine spent more
    time on them than the queries on the figures (issue 17). Every value is escaped here (names,
    labels, figures), so the result is safe to show as it is."""
    key, title = escape(key), escape(title)
    body = f'<text x="8" y="24" {FONT}>No data</text>' if marks is None else "".join(marks)
    return mark_safe(  # noqa: S308 - every value above and in the marks is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'style="max-height: {round(height * 1.4)}px" role="img" aria-labelledby="{key}-title" '
        f'data-chart="{key}" class="report-chart"><title id="{key}-title">{title}</title>{body}</svg>'
    )


def bar_chart(key, title, rows, *, label="", value="", fmt=plain, note=""):
    """Horizontal bars, one per (label, value) row, longest first as given; labels read left to right
    without rotating, which suits muscle and therapist names."""
    rows = [(str(name), number) for name, number in rows]
    chart = Chart(key=key, title=title, columns=[label, value], rows=rows, note=note)
    if not rows:
        chart.svg = _frame(key, title, 40)
        return chart
    bar, gap, top, label_width = 20, 8, 8, 210
    height = top + len(rows) * (bar + gap) + 8
    plot = WIDTH - label_width - 70
    ceiling = nice_ceiling(max((number or 0) for _, number in rows))
    colour = COLOURS[0]
    marks = []
    for index, (name, number) in enumerate(rows):
        y = top + index * (bar + gap)
        length = 0 if not number else plot * number / ceiling
        short = name if len(name) <= 32 else name[:31] + "…"
        marks.append(
            f'<g data-label="{escape(name)}" data-value="{escape(number)}">'
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" {FONT}>{escape(short)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.2f}" height="{bar}" fill="{colour}"/>'
            f'<text x="{label_width + length + 4:.2f}" y="{y + 15}" {FONT}>{escape(fmt(number))}</text></g>'
        )
    chart.svg = _frame(key, title, height, marks)
    return chart


def line_chart(key, title, x_labels, series, *, label="", fmt=plain, note=""):
    """A time series: x_labels (e.g. week starts) and series [(name, [value per label])], one line each,
    with a legend; the table has a column per series."""
    x_labels = [str(x) for x in x_labels]
    columns = [label] + [name for name, _ in series]
    rows = [[x] + [values[i] for _, values in series] for i, x in enumerate(x_labels)]
    chart = Chart(key=key, title=title, columns=columns, rows=rows, note=note)
    if not x_labels:
        chart.svg = _frame(key, title, 40)
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

    marks = []
    for tick in range(5):  # grid lines and the y axis
        v = ceiling * tick / 4
        y = y_at(v)
        marks.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.2f}" y2="{y:.2f}" stroke="#dee2e6"/>'
            f'<text x="{left - 6}" y="{y + 4:.2f}" text-anchor="end" {FONT}>{escape(fmt(v))}</text>'
        )
    every = max(1, math.ceil(count / 8))  # at most about 8 x labels, so they never overlap
    label_y = height - bottom + 16
    for i, x in enumerate(x_labels):
        # Every `every`th label and the last one, leaving out a regular label that would crowd the last.
        if i == count - 1 or (i % every == 0 and count - 1 - i >= every / 2):
            marks.append(
                f'<text x="{x_at(i):.2f}" y="{label_y}" text-anchor="middle" {FONT}>{escape(x)}</text>'
            )
    for n, (name, values) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x_at(i):.2f},{y_at(v):.2f}" for i, v in enumerate(values))
        marks.append(
            f'<g data-series="{escape(name)}">'
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        marks.extend(
            f'<circle cx="{x_at(i):.2f}" cy="{y_at(v):.2f}" r="3" fill="{colour}" '
            f'data-x="{escape(x_labels[i])}" data-value="{escape(v)}"/>'
            for i, v in enumerate(values)
        )
        marks.append(
            f'</g><rect x="{left + n * 160}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + n * 160 + 16}" y="16" {FONT}>{escape(name)}</text>'
        )
    chart.svg = _frame(key, title, height, marks)
    return chart
