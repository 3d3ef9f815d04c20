"""The time grid behind the day and week views: rows of 15 minutes, one column per therapist (day view)
or per day (week view). Pure Python over rows already loaded, so the page's query count stays fixed."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

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


def _minute_of_day(moment, day):
    local = timezone.localtime(moment)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def build_grid(columns):
    """(rows, columns): rows is [(time label, [cell per column])], a cell being one of
    {"kind": "appointment", "appointment": a, "span": n}, {"kind": "free", "start": iso},
    {"kind": "off", "start": iso}, or None where an appointment above spans over it."""
    first = DEFAULT_FIRST.hour * 60 + DEFAULT_FIRST.minute
    last = DEFAULT_LAST.hour * 60 + DEFAULT_LAST.minute
    for column in columns:
        active = [a for a in column.appointments if a.status not in INACTIVE_STATUSES]
        column.other = [a for a in column.appointments if a.status in INACTIVE_STATUSES]
        column.appointments = active
        for start, end, _ in column.blocks:
            first = min(first, _minute_of_day(start, column.day))
            last = max(last, _minute_of_day(end, column.day))
        for appointment in active:
            first = min(first, _minute_of_day(appointment.start, column.day))
            last = max(last, _minute_of_day(appointment.end, column.day))
    first -= first % STEP_MINUTES
    last = min(24 * 60, last + (-last % STEP_MINUTES))
    slots = list(range(first, last, STEP_MINUTES))
    grid = []
    for column in columns:
        cells = {}
        covered = set()
        for appointment in column.appointments:
            begin = max(first, _minute_of_day(appointment.start, column.day))
            finish = min(last, _minute_of_day(appointment.end, column.day))
            begin -= (begin - first) % STEP_MINUTES
            if begin in cells or begin in covered:
                # Cannot happen for active appointments (the database refuses overlaps); kept visible anyway.
                cells.setdefault(
                    begin, {"kind": "appointment", "appointment": appointment, "span": 1, "more": []}
                )
                cells[begin].setdefault("more", []).append(appointment)
                continue
            span = max(1, -(-(finish - begin) // STEP_MINUTES))
            cells[begin] = {"kind": "appointment", "appointment": appointment, "span": span}
            covered.update(range(begin + STEP_MINUTES, begin + span * STEP_MINUTES, STEP_MINUTES))
        working = [
            (_minute_of_day(s, column.day), _minute_of_day(e, column.day)) for s, e, _ in column.blocks
        ]
        column_cells = []
        for minute in slots:
            if minute in cells:
                column_cells.append(cells[minute])
            elif minute in covered:
                column_cells.append(None)
            else:
                moment = datetime.combine(column.day, time(minute // 60, minute % 60))
                inside = any(s <= minute and minute + STEP_MINUTES <= e for s, e in working)
                column_cells.append(
                    {
                        "kind": "free" if inside else "off",
                        "start": moment.strftime("%Y-%m-%dT%H:%M"),
                        "therapist": column.therapist.pk,
                    }
                )
        grid.append(column_cells)
    rows = []
    for index, minute in enumerate(slots):
        label = f"{minute // 60:02d}:{minute % 60:02d}"
        rows.append((label, minute % 60 == 0, [column_cells[index] for column_cells in grid]))
    return rows


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
