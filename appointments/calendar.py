"""The time grid behind the day and week views: rows of 15 minutes, one column per therapist (day view)
or per day (week view). Pure Python over rows already loaded, so the page's query count stays fixed."""

from dataclasses import dataclass, field
from datetime import time, timedelta
from html import escape as escape_text

from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from clinic.reversing import url_for_id

from .models import INACTIVE_STATUSES

STEP_MINUTES = 15
DEFAULT_FIRST = time(8, 0)
DEFAULT_LAST = time(18, 0)


@dataclass
class Column:
    label: str
    day: object
    therapist: object
    appointments: list
    blocks: list  # [(start, end, location)] aware working time
    other: list = field(default_factory=list)  # cancelled and no-show, listed under the grid


def _minute_of_day(moment, day, tz):
    """The local minute of `moment` on `day` (0 before the day, 24 x 60 after it), in `tz`, the current
    time zone, asked once per grid: timezone.localtime() looks it up each call (a few hundred a view)."""
    local = moment.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def _label(minute):
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _empty_cell(minute, inside, href):
    """The <td> of a time where nothing is booked: a link to the booking form in working time
    ("+ 09:15"), a faint one outside it, a bare cell for someone who cannot book (href None)."""
    label = _label(minute)
    if href is None:
        return '<td class="slot-free"></td>' if inside else '<td class="slot-off"></td>'
    href = f"{href}T{label}"
    if inside:
        return (
            '<td class="slot-free"><a class="d-block small text-decoration-none text-success" '
            f'data-testid="free-slot" href="{href}" title="Book {label}">+ {label}</a></td>'
        )
    return (
        '<td class="slot-off"><a class="d-block small text-decoration-none text-muted opacity-25" '
        f'href="{href}" title="Outside working hours: book {label} anyway">&nbsp;</a></td>'
    )


class GridRow(tuple):
    """One row of the grid: (time label, on the hour, cells), and its whole <tr> as `html`."""

    html = ""


def build_grid(columns, *, book_url=None, now=None):
    """rows: [(time label, on the hour, cells)] for the day and week views' table, each a GridRow whose
    `html` is the row's whole <tr> (with the "now" line in the row holding `now`, when given); cells are
    the row's <td>s, left to right: {"appointment": a, "span": n, "url": its page, "starts": "09:15",
    "status_badge": its status's badge, "html": its <td>} for an appointment's cell, {"appointment":
    None, "html": the <td>s} for each run of times where nothing is booked; times an appointment above
    spans over have no cell. `book_url` is the booking form's address, or None for a person who cannot
    book (the empty cells then link nowhere).

    The empty cells (about 390 on a busy day) are built here as HTML strings, each run joined into one,
    and so are each appointment's cell and each row, so the template does no work per cell or row:
    rendered one tag at a time, with a URL reversed in each, they were most of the day view's time
    (docs/benchmarks.md, "Appointments day view"; issue 17)."""
    tz = timezone.get_current_timezone()
    first = DEFAULT_FIRST.hour * 60 + DEFAULT_FIRST.minute
    last = DEFAULT_LAST.hour * 60 + DEFAULT_LAST.minute
    for column in columns:
        active = [a for a in column.appointments if a.status not in INACTIVE_STATUSES]
        column.other = [a for a in column.appointments if a.status in INACTIVE_STATUSES]
        column.appointments = active
        for start, end, _ in column.blocks:
            first = min(first, _minute_of_day(start, column.day, tz))
            last = max(last, _minute_of_day(end, column.day, tz))
        for appointment in active:
            first = min(first, _minute_of_day(appointment.start, column.day, tz))
            last = max(last, _minute_of_day(appointment.end, column.day, tz))
    first -= first % STEP_MINUTES
    last = min(24 * 60, last + (-last % STEP_MINUTES))
    slots = list(range(first, last, STEP_MINUTES))
    book_url = None if book_url is None else escape(book_url)
    detail_url = url_for_id("appointments:detail")
    status_badge = status_badges()
    grid = []
    for column in columns:
        cells = {}
        covered = set()
        for appointment in column.appointments:
            starts = _minute_of_day(appointment.start, column.day, tz)
            begin = max(first, starts)
            finish = min(last, _minute_of_day(appointment.end, column.day, tz))
            begin -= (begin - first) % STEP_MINUTES
            if begin in cells or begin in covered:
                # Cannot happen for active appointments (the database refuses overlaps); kept visible anyway.
                cells.setdefault(begin, _appointment_cell(appointment, 1, starts, detail_url, status_badge))
                cells[begin].setdefault("more", []).append(appointment)
                continue
            span = max(1, -(-(finish - begin) // STEP_MINUTES))
            cells[begin] = _appointment_cell(appointment, span, starts, detail_url, status_badge)
            covered.update(range(begin + STEP_MINUTES, begin + span * STEP_MINUTES, STEP_MINUTES))
        working = [
            (_minute_of_day(s, column.day, tz), _minute_of_day(e, column.day, tz))
            for s, e, _ in column.blocks
        ]
        href = None
        if book_url is not None:
            href = f"{book_url}?therapist={column.therapist.pk}&amp;start={column.day.isoformat()}"
        column_cells = []
        for minute in slots:
            if minute in cells:
                column_cells.append(cells[minute])
            elif minute in covered:
                column_cells.append(None)
            else:
                inside = any(s <= minute and minute + STEP_MINUTES <= e for s, e in working)
                column_cells.append(_empty_cell(minute, inside, href))
        grid.append(column_cells)
    # The "now" line: the 15-minute row holding the current time, when `now` is given (today's day view).
    now_label = now_row_label(now) if now is not None else None
    now_line = ""
    if now is not None:
        now_line = (
            '\n    <span class="d-block now-label" data-testid="now-line">'
            f"now {timezone.localtime(now):%H:%M}</span>"
        )
    rows = []
    for index, minute in enumerate(slots):
        row, empty = [], []
        for column_cells in grid:
            cell = column_cells[index]
            if isinstance(cell, str):
                empty.append(cell)
            elif cell is not None:
                if empty:
                    row.append({"appointment": None, "html": mark_safe("".join(empty))})  # noqa: S308
                    empty = []
                row.append(cell)
        if empty:
            row.append({"appointment": None, "html": mark_safe("".join(empty))})  # noqa: S308
        label, on_the_hour = _label(minute), minute % 60 == 0
        grid_row = GridRow((label, on_the_hour, row))
        now_here = label == now_label
        grid_row.html = mark_safe(  # noqa: S308 (cells escaped where they are built)
            f'<tr class="{"hour" if on_the_hour else ""}{" now" if now_here else ""}">\n'
            '  <th scope="row" class="time-col small text-muted fw-normal">'
            f"{label if on_the_hour or not index else ''}{now_line if now_here else ''}</th>\n  "
            + "".join(cell["html"] for cell in row)
            + "\n</tr>"
        )
        rows.append(grid_row)
    return rows


def _appointment_cell(appointment, span, starts, detail_url, status_badge):
    cell = {
        "appointment": appointment,
        "span": span,
        "url": detail_url(appointment.pk),
        "status_badge": status_badge(appointment.status),
        # The local start as the time filter shows it ("09:15"); the minute of an earlier day is 0.
        "starts": _label(starts) if starts else f"{timezone.localtime(appointment.start):%H:%M}",
    }
    cell["html"] = _booked_cell(cell)
    return cell


ONLINE_BADGE = (
    '<span class="badge text-bg-info" data-testid="online-badge" title="Booked online by the patient">'
    "Online</span>"
)


def _booked_cell(cell):
    """The <td> of an appointment: its start, the patient, the Online badge of a booking the patient made,
    the type and the status badge, linking to the appointment's page. Built here, like the empty cells:
    rendered by the template, these ~70 cells were half of the day view's template time. Escaped by the
    standard library's html.escape, which Django's escape() wraps (the same text, without its lazy-string
    wrapper on each call)."""
    appointment = cell["appointment"]
    patient = appointment.patient
    online = f"\n    {ONLINE_BADGE}" if appointment.booked_online else ""
    return mark_safe(  # noqa: S308 (every value from the database is escaped)
        f'<td rowspan="{cell["span"]}" class="slot-booked status-{escape_text(appointment.status)}" '
        f'data-testid="appointment" data-appointment="{appointment.pk}">\n'
        f'  <a href="{cell["url"]}" class="d-block text-decoration-none">\n'
        f"    <strong>{cell['starts']}</strong> {escape_text(patient.family_name)}, "
        f"{escape_text(patient.display_given_name)}{online}\n"
        f'    <span class="d-block small text-muted">{escape_text(appointment.type.name)}</span>\n'
        f"  </a>\n  {cell['status_badge']}\n</td>"
    )


def status_badges():
    """A function giving the badge of a status (appointments/_status.html, the one way pages show it),
    rendering the template once per status met rather than once per appointment."""
    template = get_template("appointments/_status.html")
    rendered = {}

    def badge(status):
        if status not in rendered:
            rendered[status] = template.render({"status": status})
        return rendered[status]

    return badge


def now_row_label(now):
    """The label of the grid row holding the local time `now` ("10:15" at 10:22): where the day view
    draws its "now" line."""
    local = timezone.localtime(now)
    minute = local.minute - local.minute % STEP_MINUTES
    return f"{local.hour:02d}:{minute:02d}"


def week_days(day):
    """Monday to Sunday of the week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]
