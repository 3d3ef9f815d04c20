# ruff: noqa: S608 - the SQL below interpolates only table names from _meta and fixed fragments
"""The figures of the manager's dashboards, as aggregate SQL over the other apps' tables.

reports reads every app and owns none of their tables (DESIGN.md), so the queries name tables through
each model's _meta. Each function runs one query whatever the number of rows; the dashboards therefore
run a fixed number of queries (pinned in tests/reports/test_dashboard.py). Rates per 100 sessions carry
95% Wilson intervals (reports/stats.py).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps

from clinic.replica import reading_connection as connection

from .baselines import BASELINES
from .stats import wilson

# Lists shown on the page stay short; the exports hold every row.
LIST_LIMIT = 100
TOP_MUSCLES = 10
RISK_REGIONS = ("neck", "mid_back")


def model(label):
    return apps.get_model(*label.split("."))


def table(label):
    return connection.ops.quote_name(model(label)._meta.db_table)


def fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- filters as SQL ------------------------------------------------------------------------------------
SUMMARY = "reports_sessionsummary"  # reports.models.SessionSummary, kept by triggers (reports/migrations)
SESSION_DAYS = "reports_sessionday"  # reports.models.SessionDay, the summaries added up per day (0010)
SESSION_TOTALS = "reports_sessiondaytotal"  # reports.models.SessionDayTotal: all clinicians together (0011)
SESSION_MONTHS = (
    "reports_sessionmonth"  # reports.models.SessionMonth: sessions per month and clinician (0011)
)
APPOINTMENT_DAYS = "reports_appointmentday"  # reports.models.AppointmentDay: per day, therapist, status
APPOINTMENT_TOTALS = "reports_appointmentdaytotal"  # AppointmentDayTotal: all therapists together (0012)
APPOINTMENT_MONTHS = "reports_appointmentmonth"  # AppointmentMonth: per month and therapist (0012)
# The all-clinic day totals added up per calendar month (reports 0013): a range's whole months.
SESSION_MONTH_TOTALS = "reports_sessionmonthtotal"  # SessionMonthTotal: per month and location
APPOINTMENT_MONTH_TOTALS = "reports_appointmentmonthtotal"  # AppointmentMonthTotal: month, location, status
MUSCLE_MONTH_TOTALS = "reports_musclemonthtotal"  # MuscleMonthTotal: per month and muscle
# The same day totals added up per week from Monday (reports 0014): a range shown by week's whole weeks.
SESSION_WEEK_TOTALS = "reports_sessionweektotal"  # SessionWeekTotal: sessions per week and location
APPOINTMENT_WEEK_TOTALS = "reports_appointmentweektotal"  # AppointmentWeekTotal: week, location, status
SESSION_FIGURES = (
    "sessions, sessions_by_points, points, twitches, pain_sessions, pain_before, pain_after, improved, "
    "risk_sessions, covered_sessions"
)


def session_scope(report_filter, alias="s"):
    """(where, params) selecting the filtered sessions' summaries (one row per needling session,
    with session_id, patient_id, clinician_id, location_id, started_at, pain and point counts) as `alias`.

    A session's location is its appointment's; with a location chosen, sessions without an appointment
    are left out, since nobody recorded where they happened.
    """
    where = [f"{alias}.started_at >= %s", f"{alias}.started_at < %s"]
    params = [report_filter.starts_at, report_filter.ends_before]
    if report_filter.therapist is not None:
        where.append(f"{alias}.clinician_id = %s")
        params.append(report_filter.therapist.pk)
    if report_filter.location is not None:
        where.append(f"{alias}.location_id = %s")
        params.append(report_filter.location.pk)
    return " AND ".join(where), params


def day_scope(report_filter, alias, person="clinician_id", location=True):
    """(where, params) over a per-day summary table: the filter's clinic days, person and location."""
    where = [f"{alias}.day >= %s", f"{alias}.day <= %s"]
    params = [report_filter.start, report_filter.end]
    if report_filter.therapist is not None:
        where.append(f"{alias}.{person} = %s")
        params.append(report_filter.therapist.pk)
    if location and report_filter.location is not None:
        where.append(f"{alias}.location_id = %s")
        params.append(report_filter.location.pk)
    return " AND ".join(where), params


def session_figures(report_filter):
    """(from-item, params): the rows of session figures (SessionFigures' columns) whose sum is the
    filter's, as `d`. With a therapist chosen, that clinician's days (reports_sessionday); otherwise the
    all-clinic totals, per month (reports 0013) for the months the range covers in most of their days,
    less the days it leaves out (their figures negated), plus per day (0011) the days of the months it
    covers in fewer (months_plus_and_minus): a year or 90 days is a few hundred rows whatever the clinic's
    size (90 days from the 2nd read 29 days of every location otherwise)."""
    if report_filter.therapist is not None:
        where, params = day_scope(report_filter, "s")
        return f"(SELECT {SESSION_FIGURES} FROM {SESSION_DAYS} s WHERE {where}) d", params
    m_where, m_params, e_where, e_params, x_where, x_params = months_plus_and_minus(
        report_filter, "clinician_id"
    )
    return (
        f"""(SELECT {SESSION_FIGURES} FROM {SESSION_MONTH_TOTALS} m WHERE {m_where}
            UNION ALL SELECT {SESSION_FIGURES} FROM {SESSION_TOTALS} e WHERE {e_where}
            UNION ALL SELECT {NEGATED_FIGURES} FROM {SESSION_TOTALS} o WHERE {x_where}) d""",
        [*m_params, *e_params, *x_params],
    )


# SESSION_FIGURES of a day taken away from its month (as `o`): each count negated, each bucket of the
# points histogram too, in its place.
NEGATED_FIGURES = ", ".join(
    "ARRAY(SELECT -u.v FROM unnest(o.sessions_by_points) WITH ORDINALITY AS u(v, i) ORDER BY u.i)"
    " AS sessions_by_points"
    if name == "sessions_by_points"
    else f"-o.{name} AS {name}"
    for name in SESSION_FIGURES.split(", ")
)


def per_period(report_filter, unit, columns, days, months, person, weeks=None):
    """(from-item, params): rows of `period` (the first day of the unit's period) and `columns` whose sums
    per period are the filter's, as `p`, from per-day rollup `days` (as `a`, `person` naming its person
    column) or, for the all-clinic totals, by month from per-month rollup `months` and by week from
    per-week rollup `weeks` (when given) for the whole periods, and `days` for the days at either end.
    Periods are truncated from the day as a timestamp without time zone: the same Monday or first of the
    month, without converting each row through the session's time zone as date_trunc of a timestamptz
    does."""
    if report_filter.therapist is None and (unit == "month" or (unit == "week" and weeks is not None)):
        column, table = ("month", months) if unit == "month" else ("week", weeks)
        first, after = whole_months(report_filter) if unit == "month" else whole_weeks(report_filter)
        m_where, m_params, e_where, e_params = wholes_and_edges(report_filter, person, column, first, after)
        return (
            f"""(SELECT m.{column} AS period, {columns} FROM {table} m WHERE {m_where}
                UNION ALL SELECT {PERIOD_OF_DAY[unit].replace("a.day", "e.day")}, {columns}
                FROM {days} e WHERE {e_where}) p""",
            [*m_params, *e_params],
        )
    where, params = day_scope(report_filter, "a", person=person)
    return f"(SELECT {PERIOD_OF_DAY[unit]} AS period, {columns} FROM {days} a WHERE {where}) p", params


# The first day of a day's period, as a date, from the per-day rollups' `a.day`. A week is truncated with
# date arithmetic rather than date_trunc('week', day::timestamp)::date: the same Monday, since 0001-01-01
# (the first day a Python date can hold, so the remainder is never negative) was a Monday, without the
# two casts and the truncation per row, a quarter of the 90-day dashboard's appointment query, which
# reads every location's and status's day total (issue 17). tests/reports/test_session_days.py compares
# the weeks with a straight count.
PERIOD_OF_DAY = {
    "day": "a.day",
    "week": "a.day - (a.day - DATE '0001-01-01') %% 7",  # %% is % in a parametrised query
    "month": "date_trunc('month', a.day::timestamp)::date",
}


def next_month(day):
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_months(report_filter):
    """(first, after): the calendar months wholly inside the range are those from `first` up to, not
    including, `after`; the range's days before `first` and from `after` on are in none. With no whole
    month, both are the day after the range (every day is an edge day)."""
    start, end = report_filter.start, report_filter.end
    first = start if start.day == 1 else next_month(start)
    after = next_month(end) if (end + timedelta(days=1)).day == 1 else end.replace(day=1)
    if first >= after:
        first = after = end + timedelta(days=1)
    return first, after


def whole_weeks(report_filter):
    """(first, after): the weeks (Monday to Sunday) wholly inside the range are those from Monday `first`
    up to, not including, Monday `after`; as whole_months()."""
    start, end = report_filter.start, report_filter.end
    first = start + timedelta(days=(7 - start.weekday()) % 7)
    after = end + timedelta(days=1) - timedelta(days=(end + timedelta(days=1)).weekday())
    if first >= after:
        first = after = end + timedelta(days=1)
    return first, after


def wholes_and_edges(report_filter, person, column, first, after):
    """(period where, params, edge-day where, params): the rows of a per-period rollup (`m`, its period's
    first day in `column`) for the range's whole periods, from `first` up to `after`, and of its per-day
    rollup (`e`) for the days at either end of it, in no whole period; the chosen therapist's (in column
    `person`) and location's only."""
    m_where, m_params = [f"m.{column} >= %s", f"m.{column} < %s"], [first, after]
    e_where = ["((e.day >= %s AND e.day < %s) OR (e.day >= %s AND e.day <= %s))"]
    e_params = [report_filter.start, first, after, report_filter.end]
    for name, chosen in ((person, report_filter.therapist), ("location_id", report_filter.location)):
        if chosen is not None:
            m_where.append(f"m.{name} = %s")
            e_where.append(f"e.{name} = %s")
            m_params.append(chosen.pk)
            e_params.append(chosen.pk)
    return " AND ".join(m_where), m_params, " AND ".join(e_where), e_params


def months_plus_and_minus(report_filter, person):
    """(month where, params, added-day where, params, taken-day where, params): like wholes_and_edges, for
    sums of plain counts, where a month the range covers in most of its days is cheaper read whole with the
    days it leaves out taken away than as the days it covers: a 90-day range from the 2nd of a month reads
    one day per therapist to take away rather than 29 to add (issue 17). Exact, because each per-month
    rollup is the sum of its per-day rollup's days (the same triggers keep both). The chosen therapist's
    (in column `person`) and location's rows only."""
    start, end = report_filter.start, report_filter.end
    months, added, taken = [], [], []
    month = start.replace(day=1)
    while month <= end:
        following = next_month(month)
        inside = (max(start, month), min(end, following - timedelta(days=1)))
        covered = (inside[1] - inside[0]).days + 1
        length = (following - month).days
        if covered == length:
            months.append(month)
        elif covered <= length - covered:
            added.append(inside)
        else:
            months.append(month)
            if inside[0] > month:
                taken.append((month, inside[0] - timedelta(days=1)))
            if inside[1] < following - timedelta(days=1):
                taken.append((inside[1] + timedelta(days=1), following - timedelta(days=1)))
        month = following

    def where(alias, column, ranges):
        clauses, params = [], []
        for first, last in ranges:
            clauses.append(f"({alias}.{column} >= %s AND {alias}.{column} <= %s)")
            params += [first, last]
        return clauses or ["FALSE"], params

    parts = []
    for alias, column, ranges in (
        ("m", "month", [(months[0], months[-1])] if months else []),  # contiguous: only an end is a part
        ("e", "day", added),
        ("o", "day", taken),
    ):
        clauses, params = where(alias, column, ranges)
        conditions = ["(" + " OR ".join(clauses) + ")"]
        for name, chosen in ((person, report_filter.therapist), ("location_id", report_filter.location)):
            if chosen is not None:
                conditions.append(f"{alias}.{name} = %s")
                params.append(chosen.pk)
        parts += [" AND ".join(conditions), params]
    return tuple(parts)


# --- periods -------------------------------------------------------------------------------------------
def period_unit(report_filter):
    """Days for a month or less, weeks up to about half a year, months beyond: 5 to 60 points a line."""
    if report_filter.days <= 31:
        return "day"
    if report_filter.days <= 190:
        return "week"
    return "month"


def period_starts(report_filter, unit):
    """Every period of the range, so that a period with nothing in it still shows as zero."""
    if unit == "day":
        first, step = report_filter.start, None
    elif unit == "week":
        first, step = report_filter.start - timedelta(days=report_filter.start.weekday()), None
    else:
        first, step = report_filter.start.replace(day=1), "month"
    starts, current = [], first
    while current <= report_filter.end:
        starts.append(current)
        if step == "month":
            current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        else:
            current += timedelta(days=1 if unit == "day" else 7)
    return starts


# --- activity ------------------------------------------------------------------------------------------
@dataclass
class Activity:
    unit: str
    periods: list
    appointments_per_period: dict
    sessions_per_period: dict
    appointments: int = 0
    attended: int = 0
    cancelled: int = 0
    no_show: int = 0
    per_therapist: list = field(default_factory=list)  # (name, appointments, sessions)

    @property
    def no_show_rate(self):
        return wilson(self.no_show, self.appointments)

    @property
    def cancellation_rate(self):
        return wilson(self.cancelled, self.appointments)


def activity(report_filter):
    """Appointments and sessions per period and per therapist; no-show and cancellation counts. One
    query: the periods, then the therapists with their names."""
    unit = period_unit(report_filter)
    # Appointments per period from their per-day rollups (reports 0012: all therapists' day totals unless
    # a therapist is chosen, then that therapist's days; whole months and weeks from the totals of 0013
    # and 0014), and sessions the same way (reports 0010/0011).
    a_days = APPOINTMENT_DAYS if report_filter.therapist is not None else APPOINTMENT_TOTALS
    a_source, a_params = per_period(
        report_filter,
        unit,
        "status, appointments",
        a_days,
        APPOINTMENT_MONTH_TOTALS,
        "therapist_id",
        weeks=APPOINTMENT_WEEK_TOTALS,
    )
    d_source, d_params = per_period(
        report_filter,
        unit,
        "sessions",
        SESSION_DAYS if report_filter.therapist is not None else SESSION_TOTALS,
        SESSION_MONTH_TOTALS,
        "clinician_id",
        weeks=SESSION_WEEK_TOTALS,
    )
    # Per therapist, appointments and sessions from the rollups per month of the months the range covers in
    # most of their days, less the days it leaves out, plus the per-day rollups of the other days
    # (months_plus_and_minus): a few rows per therapist, not one per therapist-day; with each therapist's
    # name joined (hundreds of them at full size).
    am_where, am_params, ae_where, ae_params, ax_where, ax_params = months_plus_and_minus(
        report_filter, "therapist_id"
    )
    sm_where, sm_params, se_where, se_params, sx_where, sx_params = months_plus_and_minus(
        report_filter, "clinician_id"
    )
    rows = fetch(
        f"""SELECT 'appointments', p.period, NULL::bigint, NULL::text,
                   coalesce(sum(p.appointments) FILTER (WHERE p.status <> 'cancelled'), 0),
                   sum(p.appointments),
                   coalesce(sum(p.appointments) FILTER (WHERE p.status = 'cancelled'), 0),
                   coalesce(sum(p.appointments) FILTER (WHERE p.status = 'no_show'), 0),
                   coalesce(sum(p.appointments)
                            FILTER (WHERE p.status IN ('arrived', 'in_treatment', 'completed')), 0)
            FROM {a_source}
            GROUP BY p.period HAVING sum(p.appointments) > 0
            UNION ALL
            SELECT 'sessions', p.period, NULL, NULL, sum(p.sessions), 0, 0, 0, 0
            FROM {d_source}
            GROUP BY p.period HAVING sum(p.sessions) > 0
            UNION ALL
            SELECT 'therapist', NULL, coalesce(a.therapist_id, s.clinician_id), u.full_name,
                   coalesce(a.booked, 0), coalesce(s.sessions, 0), 0, 0, 0
            FROM (
                SELECT x.therapist_id, coalesce(sum(x.n) FILTER (WHERE x.status <> 'cancelled'), 0) AS booked
                FROM (
                    SELECT m.therapist_id, m.status, m.appointments AS n
                    FROM {APPOINTMENT_MONTHS} m WHERE {am_where}
                    UNION ALL
                    SELECT e.therapist_id, e.status, e.appointments
                    FROM {APPOINTMENT_DAYS} e WHERE {ae_where}
                    UNION ALL
                    SELECT o.therapist_id, o.status, -o.appointments
                    FROM {APPOINTMENT_DAYS} o WHERE {ax_where}
                ) x GROUP BY x.therapist_id HAVING sum(x.n) > 0
            ) a
            FULL JOIN (
                SELECT x.clinician_id, sum(x.sessions) AS sessions FROM (
                    SELECT m.clinician_id, m.sessions FROM {SESSION_MONTHS} m WHERE {sm_where}
                    UNION ALL
                    SELECT e.clinician_id, e.sessions FROM {SESSION_DAYS} e WHERE {se_where}
                    UNION ALL
                    SELECT o.clinician_id, -o.sessions FROM {SESSION_DAYS} o WHERE {sx_where}
                ) x GROUP BY x.clinician_id HAVING sum(x.sessions) > 0
            ) s ON s.clinician_id = a.therapist_id
            LEFT JOIN {table("accounts.User")} u ON u.id = coalesce(a.therapist_id, s.clinician_id)""",
        [*a_params, *d_params, *am_params, *ae_params, *ax_params, *sm_params, *se_params, *sx_params],
    )
    result = Activity(
        unit=unit,
        periods=period_starts(report_filter, unit),
        appointments_per_period={},
        sessions_per_period={},
    )
    therapists = []
    for kind, period, pk, name, count, total, cancelled, no_show, attended in rows:
        if kind == "therapist":  # count: appointments booked, total: sessions
            # A person no longer on staff (no user row) keeps their id as their name.
            therapists.append((f"#{pk}" if name is None else name, count, total))
        elif kind == "sessions":
            result.sessions_per_period[period] = count
        else:
            result.appointments_per_period[period] = count
            result.appointments += total
            result.cancelled += cancelled
            result.no_show += no_show
            result.attended += attended
    result.per_therapist = sorted(therapists, key=lambda row: (-row[2], -row[1], row[0]))
    return result


# --- needling ------------------------------------------------------------------------------------------
@dataclass
class Needling:
    sessions: int = 0
    points: int = 0
    twitches: int = 0
    points_histogram: list = field(default_factory=list)  # (label "1".."9", "10+", count)
    muscles: list = field(default_factory=list)  # (name, points)
    regions: list = field(default_factory=list)  # (label, points)
    pain_sessions: int = 0
    pain_before: float | None = None
    pain_after: float | None = None
    improved: int = 0
    # Consent coverage's counts, summed from the same rows (consent_coverage(counted=...)).
    risk_sessions: int = 0
    covered_sessions: int = 0

    @property
    def points_per_session(self):
        return self.points / self.sessions if self.sessions else None

    @property
    def twitch_rate(self):
        return wilson(self.twitches, self.points)

    @property
    def pain_change(self):
        if self.pain_before is None or self.pain_after is None:
            return None
        return self.pain_after - self.pain_before


def needling(report_filter):
    """Points per session, muscles and regions, twitch response rate and pain change. One query."""
    Muscle = model("treatments.Muscle")
    result = Needling()
    # The histogram, the point totals and the pain figures from the sessions' per-day rollup (reports
    # 0010/0011): one row per day and location of the range (per clinician-day with a therapist chosen),
    # whatever the number of sessions.
    source, totals_params = session_figures(report_filter)
    where, day_params = day_scope(report_filter, "d")
    # Muscles from the per-day summaries (the range is whole clinic days, as their rows are): the
    # all-clinic totals unless a therapist or location is chosen. Each muscle's name and body region are
    # joined here, not read as a catalogue of model objects: that, and get_body_region_display() per
    # muscle, cost more than the sums (issue 17).
    filtered = report_filter.therapist is not None or report_filter.location is not None
    if filtered:
        muscles_source = f"(SELECT d.muscle_id, d.points FROM reports_muscleday d WHERE {where}) d"
        muscle_params = day_params
    else:  # the months from their totals (reports 0013), less or plus days, as session_figures()
        m_where, m_params, e_where, e_params, x_where, x_params = months_plus_and_minus(
            report_filter, "clinician_id"
        )
        muscles_source = f"""(SELECT m.muscle_id, m.points FROM {MUSCLE_MONTH_TOTALS} m WHERE {m_where}
                      UNION ALL
                      SELECT e.muscle_id, e.points FROM reports_muscledaytotal e WHERE {e_where}
                      UNION ALL
                      SELECT o.muscle_id, -o.points FROM reports_muscledaytotal o WHERE {x_where}) d"""
        muscle_params = [*m_params, *e_params, *x_params]
    # The totals, the histogram and the pain figures from the sessions' per-day rollup (reports
    # 0010/0011): one row per day and location of the range (per clinician-day with a therapist chosen),
    # whatever the number of sessions; the muscles as a JSON list beside them, in the same round trip.
    buckets = ", ".join(f"coalesce(sum(d.sessions_by_points[{n + 1}]), 0)" for n in range(11))
    (
        (
            muscles_json,
            sessions,
            points,
            twitches,
            with_pain,
            before,
            after,
            improved,
            risk,
            covered,
            *histogram,
        ),
    ) = fetch(
        f"""SELECT (SELECT json_agg(json_build_array(t.muscle_id, mu.name, mu.body_region, t.points))
                        FROM (SELECT d.muscle_id, sum(d.points) AS points FROM {muscles_source}
                              GROUP BY d.muscle_id HAVING sum(d.points) > 0) t
                        LEFT JOIN {table("treatments.Muscle")} mu ON mu.id = t.muscle_id),
                       coalesce(sum(d.sessions), 0), coalesce(sum(d.points), 0), coalesce(sum(d.twitches), 0),
                       coalesce(sum(d.pain_sessions), 0), coalesce(sum(d.pain_before), 0),
                       coalesce(sum(d.pain_after), 0), coalesce(sum(d.improved), 0),
                       coalesce(sum(d.risk_sessions), 0), coalesce(sum(d.covered_sessions), 0), {buckets}
                FROM {source}""",
        [*muscle_params, *totals_params],
    )
    result.risk_sessions, result.covered_sessions = risk, covered
    result.sessions, result.points, result.twitches = sessions, points, twitches
    result.pain_sessions, result.improved = with_pain, improved
    if result.pain_sessions:
        result.pain_before = before / result.pain_sessions
        result.pain_after = after / result.pain_sessions
    result.points_histogram = [("10+" if n == 10 else str(n), histogram[n]) for n in range(0, 11)]
    rows = muscles_json or []
    region_labels = {value: str(label) for value, label in Muscle._meta.get_field("body_region").flatchoices}
    by_region = {}
    muscles = []
    for muscle_id, name, body_region, count in rows:
        known = name is not None  # a muscle no longer in the catalogue keeps its id as its name
        muscles.append((name if known else f"#{muscle_id}", count))
        # As get_body_region_display(): the choice's label, else the stored value itself.
        region = region_labels.get(body_region, str(body_region)) if known else "Unknown"
        by_region[region] = by_region.get(region, 0) + count
    result.muscles = sorted(muscles, key=lambda row: (-row[1], row[0]))[:TOP_MUSCLES]
    result.regions = sorted(by_region.items(), key=lambda row: (-row[1], row[0]))
    return result


# --- consent coverage ----------------------------------------------------------------------------------
@dataclass
class Coverage:
    risk_sessions: int = 0
    covered: int = 0
    uncovered: list = field(default_factory=list)  # dicts, for clinical roles only

    @property
    def rate(self):
        return wilson(self.covered, self.risk_sessions)

    @property
    def alarm(self):
        return self.covered < self.risk_sessions


def consent_coverage(report_filter, *, list_sessions=False, counted=None):
    """Share of sessions with neck or mid back points whose consent covered every such region, and, for
    clinical roles (list_sessions), the newest LIST_LIMIT sessions that were not covered. One query; none
    when `counted` is the filter's Needling (needling() sums the same rows) and no list is asked for.

    Covered is judged by the database when the points are recorded, by consent's own definition
    (consent_allows() of consent migration 0004, read through reports 0007) at the later of the
    database's clock and the patient's newest consent event (reports 0006): the moment treatments'
    consent gate checks; a later withdrawal does not uncover earlier sessions.
    """
    if counted is not None and not list_sessions:
        return Coverage(risk_sessions=counted.risk_sessions, covered=counted.covered_sessions)
    source, params = session_figures(report_filter)
    listing = "NULL"
    if list_sessions:
        # The uncovered sessions are few: their partial index (reports_session_uncovered_idx) finds the
        # newest without reading the range's other sessions.
        s_where, s_params = session_scope(report_filter)
        params = [*s_params, *params]  # the listing's placeholders come first in the statement
        listing = f"""(SELECT json_agg(u) FROM (
                SELECT s.session_id, s.started_at, pt.chart_number, us.full_name AS clinician,
                       array_remove(ARRAY[
                           CASE WHEN s.neck_points > 0 AND NOT s.neck_consented THEN 'neck' END,
                           CASE WHEN s.mid_back_points > 0 AND NOT s.mid_back_consented THEN 'mid_back' END
                       ], NULL) AS regions
                FROM {SUMMARY} s JOIN {table("patients.Patient")} pt ON pt.id = s.patient_id
                JOIN {table("accounts.User")} us ON us.id = s.clinician_id
                WHERE {s_where} AND ((s.neck_points > 0 AND NOT s.neck_consented)
                                     OR (s.mid_back_points > 0 AND NOT s.mid_back_consented))
                ORDER BY s.started_at DESC, s.session_id DESC LIMIT {LIST_LIMIT}) u)"""
    # The counts from the sessions' per-day rollup (reports 0010/0011), which adds up the same judgement.
    sql = f"""
        SELECT coalesce(sum(d.risk_sessions), 0), coalesce(sum(d.covered_sessions), 0), {listing}
        FROM {source}"""
    total, covered, uncovered = fetch(sql, params)[0]
    result = Coverage(risk_sessions=total, covered=covered)
    labels = {"neck": "Neck", "mid_back": "Mid back"}
    for row in uncovered or []:
        result.uncovered.append(
            {
                "session_id": row["session_id"],
                "started_at": datetime.fromisoformat(row["started_at"]),
                "chart_number": row["chart_number"],
                "clinician": row["clinician"],
                "regions": ", ".join(labels.get(r, r) for r in row["regions"]),
            }
        )
    return result


# --- safety --------------------------------------------------------------------------------------------
def open_incidents():
    """Every open incident (a significant or serious side effect not followed up and closed yet), oldest
    first: the safety page's list. One query."""
    from treatments.models import Incident, IncidentStatus

    return list(
        Incident.objects.filter(status=IncidentStatus.OPEN)
        .select_related("side_effect", "follow_up", "patient", "clinician", "session")
        .order_by("opened_at", "id")
    )


@dataclass
class SafetyRow:
    key: str
    label: str
    sessions_with: int
    rate: object  # stats.Rate
    baselines: dict  # baseline key -> percent or None

    @property
    def published(self):
        """The baselines' percents in BASELINES order, for the table's columns."""
        return [self.baselines.get(b.key) for b in BASELINES]


@dataclass
class Safety:
    sessions: int
    by_type: list
    by_severity: list
    events: list  # significant and serious events, newest first
    baselines: tuple = BASELINES


def safety(report_filter, sessions=None):
    """Side effect rates per 100 sessions by type and by severity, with Wilson intervals and the published
    baselines, and the list of significant and serious events. Two queries (three without `sessions`)."""
    SideEffect = model("treatments.SideEffect")
    type_labels = dict(SideEffect._meta.get_field("type").choices)
    severity_field = SideEffect._meta.get_field("severity")
    s_where, params = session_scope(report_filter)
    if sessions is None:
        source, source_params = session_figures(report_filter)
        sessions = fetch(f"SELECT coalesce(sum(d.sessions), 0) FROM {source}", source_params)[0][0]
    rows = fetch(
        f"""SELECT e.type, e.severity, GROUPING(e.type), count(DISTINCT e.session_id),
                   count(DISTINCT e.session_id) FILTER (WHERE e.severity IN ('significant', 'serious'))
            FROM {table("treatments.SideEffect")} e
            JOIN {SUMMARY} s ON s.session_id = e.session_id
            WHERE {s_where} GROUP BY GROUPING SETS ((e.type), (e.severity), ())""",
        params,
    )
    per_type, per_severity, any_effect, significant_or_worse = {}, {}, 0, 0
    for kind, severity, type_grouped, count, worse in rows:
        if kind is not None and not type_grouped:
            per_type[kind] = count
        elif severity is not None:
            per_severity[severity] = count
        else:
            any_effect, significant_or_worse = count, worse

    by_type = []
    for key, label in type_labels.items():
        published = {b.key: b.by_type.get(key) for b in BASELINES}
        count = per_type.get(key, 0)
        if count or any(v is not None for v in published.values()):
            by_type.append(SafetyRow(key, label, count, wilson(count, sessions), published))
    by_type.sort(key=lambda row: (-row.sessions_with, row.label))
    by_severity = [
        SafetyRow(
            "any",
            "Any side effect",
            any_effect,
            wilson(any_effect, sessions),
            {b.key: None for b in BASELINES},
        ),
        SafetyRow(
            "mild",
            "Mild",
            per_severity.get("mild", 0),
            wilson(per_severity.get("mild", 0), sessions),
            {b.key: b.mild_percent for b in BASELINES},
        ),
        SafetyRow(
            "significant",
            "Significant",
            per_severity.get("significant", 0),
            wilson(per_severity.get("significant", 0), sessions),
            {b.key: None for b in BASELINES},
        ),
        SafetyRow(
            "serious",
            "Serious",
            per_severity.get("serious", 0),
            wilson(per_severity.get("serious", 0), sessions),
            {b.key: None for b in BASELINES},
        ),
        SafetyRow(
            "significant_or_serious",
            "Significant or serious",
            significant_or_worse,
            wilson(significant_or_worse, sessions),
            {b.key: 100 * b.significant_events / b.treatments for b in BASELINES},
        ),
    ]
    events = fetch(
        f"""SELECT e.id, e.session_id, s.started_at, e.type, e.severity, e.onset, e.action_taken, e.resolved,
                   pt.chart_number, u.full_name
            FROM {table("treatments.SideEffect")} e
            JOIN {SUMMARY} s ON s.session_id = e.session_id
            JOIN {table("patients.Patient")} pt ON pt.id = s.patient_id
            JOIN {table("accounts.User")} u ON u.id = s.clinician_id
            WHERE {s_where} AND e.severity IN ('significant', 'serious')
            ORDER BY s.started_at DESC, e.id DESC LIMIT {LIST_LIMIT}""",
        params,
    )
    severity_labels = {k: v.split(":")[0] for k, v in severity_field.choices}
    event_list = [
        {
            "id": row[0],
            "session_id": row[1],
            "started_at": row[2],
            "type": type_labels.get(row[3], row[3]),
            "severity": severity_labels.get(row[4], row[4]),
            "severity_key": row[4],
            "action_taken": row[6],
            "resolved": row[7],
            "chart_number": row[8],
            "clinician": row[9],
        }
        for row in events
    ]
    return Safety(sessions=sessions, by_type=by_type, by_severity=by_severity, events=event_list)


def follow_ups(report_filter, sessions):
    """The follow-up after needling for the sessions in range (treatments/followup.py): how many were sent
    and answered (the response rate), the soreness reported in three bands (0-3, 4-6, 7-10), and the
    sessions whose patient reported a warning sign, per 100 sessions in range. One query."""
    s_where, params = session_scope(report_filter)
    ((sent, answered, mild, moderate, severe, warning),) = fetch(
        f"""SELECT count(*), count(f.answered_at),
                   count(*) FILTER (WHERE f.soreness BETWEEN 0 AND 3),
                   count(*) FILTER (WHERE f.soreness BETWEEN 4 AND 6),
                   count(*) FILTER (WHERE f.soreness BETWEEN 7 AND 10),
                   count(*) FILTER (WHERE f.short_of_breath OR f.chest_pain OR f.pain_breathing_in)
            FROM {table("treatments.FollowUp")} f
            JOIN {SUMMARY} s ON s.session_id = f.session_id
            WHERE {s_where}""",
        params,
    )
    return {
        "sent": sent,
        "answered": answered,
        "response_rate": 100 * answered / sent if sent else None,
        "soreness": [("0-3", mild), ("4-6", moderate), ("7-10", severe)],
        "warning_sessions": warning,
        "warning_per_100": 100 * warning / sessions if sessions else None,
    }
