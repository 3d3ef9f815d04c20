"""The one filter every report and export honours: a date range, and optionally a therapist and a location.

The form turns what the manager typed into a ReportFilter; everything below it (dashboard queries,
exports, audit detail) takes the ReportFilter, never the raw request.
"""

import hashlib
import html
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from accounts.models import Role, User

# An XLSX sheet holds 1,048,576 rows (one is the header), but openpyxl builds one that size in about a
# minute, past any sane request timeout; 200,000 rows take about ten seconds (docs/benchmarks.md). Larger
# exports are refused before any byte is written, so nobody receives a truncated workbook that looks
# complete (issue 6, Bad input); CSV streams any size.
XLSX_SHEET_ROWS = 1_048_575
XLSX_ROW_LIMIT = 200_000
# A range longer than this is almost always a typo (2062 for 2026); it is refused with a message.
MAX_RANGE_DAYS = 366 * 20
DEFAULT_RANGE_DAYS = 90
# Dates a clinic's records can hold; outside them is a typo (and year 9999 has no day after it).
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class ExportTooLarge(Exception):
    """The export does not fit the chosen format; the message says what to do instead."""


def location_model():
    """appointments.Location, or None while that app has no models (reports reads all, owns none)."""
    try:
        return apps.get_model("appointments", "Location")
    except LookupError:
        return None


@dataclass(frozen=True)
class ReportFilter:
    start: date
    end: date  # inclusive: the last day the manager wants
    therapist: User | None = None
    location: object | None = None  # appointments.Location

    @property
    def tz(self):
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def starts_at(self):
        """The first instant of the range: midnight at the clinic on the start day."""
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def ends_before(self):
        """The instant after the range: midnight at the clinic after the end day (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    @property
    def days(self):
        return (self.end - self.start).days + 1

    def as_audit(self):
        """The filters as the audit trail records them: plain, stable, no personal data."""
        parts = [f"from {self.start.isoformat()}", f"to {self.end.isoformat()}"]
        if self.therapist is not None:
            parts.append(f"therapist {self.therapist.pk} ({self.therapist.email})")
        if self.location is not None:
            parts.append(f"location {self.location.pk} ({self.location})")
        return ", ".join(parts)

    def as_query(self):
        """The filters as GET parameters, for links that keep them (exports, drill-downs)."""
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.therapist is not None:
            query["therapist"] = str(self.therapist.pk)
        if self.location is not None:
            query["location"] = str(self.location.pk)
        return query


class ListedChoices(forms.models.ModelChoiceIterator):
    """A select's choices read as plain values (ListedChoiceField.listed()). Django's iterator streams
    them through a server-side cursor (DECLARE, FETCH and CLOSE: three round trips a select, on every
    report page) to spare memory on long lists, and builds a model object per option; the clinic's
    therapists and locations are a few dozen rows (hundreds in the benchmark's chain, where building each
    user was a fifth of the dashboard)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.field.listed()[0]


class ListedChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose options are its queryset's id and the columns `shown`, labelled by
    `label_from_values(*shown)` (what the model's __str__ makes of those columns), and kept in Django's
    cache under a digest of exactly those rows: a page asks the database for the digest (one row), and
    reads and builds the options only when it is new, so a list that has not changed costs no transfer and
    no building (issue 17: 578 therapists at full size), while any change to the rows shown (a therapist
    added, renamed, given another role) changes the digest and is shown at once, by every server. The
    chosen row is still read whole, and a value not among the queryset's rows is refused as ever."""

    iterator = ListedChoices

    def __init__(self, *args, shown, label_from_values, **kwargs):
        self.shown = tuple(shown)
        self.label_from_values = label_from_values
        self._listed = self._digest = None
        super().__init__(*args, **kwargs)

    def __deepcopy__(self, memo):
        copied = super().__deepcopy__(memo)
        copied._listed = copied._digest = None  # each form reads the list afresh: it may have changed
        return copied

    def plan(self):
        """(database, SQL and parameters of the rows in any order, and in their order, the entry's name)."""
        rows = self.queryset.values_list("pk", *self.shown)
        # Equal names in the id's order, so that the order is a function of the rows alone.
        ordered_sql, ordered_params = rows.order_by(*rows.query.order_by, "pk").query.sql_with_params()
        sql, params = rows.order_by().query.sql_with_params()
        label = self.label_from_values
        # The entry's name covers the query (its SQL and parameters) and the label's function as well as
        # the digest of the rows, so two lists never share an entry.
        query = repr((ordered_sql, ordered_params, label.__module__, label.__qualname__))
        return rows.db, sql, params, ordered_sql, ordered_params, query

    def listed(self, plan=None):
        """([(id, label)], the options' HTML with none selected): from the cache while the rows are
        unchanged, else read and cached. One query when they are kept (none if read_digests() read the
        digest with the form's other lists), two when not."""
        if self._listed is not None:  # this form's field asked already
            return self._listed
        database, sql, params, ordered_sql, ordered_params, query = plan or self.plan()
        connection = connections[database]
        if self._digest is None:
            with connection.cursor() as cursor:
                cursor.execute(DIGEST.format(rows=sql), params)
                (self._digest,) = cursor.fetchone()
        cached = cache.get(choices_key(query, self._digest))
        if cached is None:
            # The rows with their digest in one statement, so both are of the same moment: a change
            # committed since the digest above is read and kept under its own digest.
            with connection.cursor() as cursor:
                cursor.execute(
                    READ.format(digest=DIGEST.format(rows=sql), rows=ordered_sql), [*params, *ordered_params]
                )
                read = cursor.fetchall()
            choices = [(pk, self.label_from_values(*shown)) for _, pk, *shown in read]
            # The standard library's escape, which Django's wraps (same output): Django's checks each
            # argument for a lazy string and marks each result safe, a third of the dashboard's 578
            # therapist options.
            options = "".join(
                f'<option value="{html.escape(str(value))}">{html.escape(str(text))}</option>'
                for value, text in choices
            )
            cached = (choices, options)
            if read:
                cache.set(choices_key(query, read[0][0]), cached, CHOICES_SECONDS)
        self._listed = cached
        return cached

    def options_html(self, chosen):
        """The select's options, the one whose value is `chosen` (a string) selected."""
        empty = ""
        if self.empty_label is not None:
            empty = f'<option value=""{SELECTED[chosen == ""]}>{html.escape(str(self.empty_label))}</option>'
        options = self.listed()[1]
        if chosen != "":
            # Each value appears once, escaped, and no label can hold `<` or `"` unescaped: exact.
            unselected = f'<option value="{html.escape(chosen)}">'
            options = options.replace(unselected, unselected[:-1] + " selected>", 1)
        return empty + options


# The digest of a query's rows (Django's own compiled query, its values as parameters), each row as its
# text (a record's text quotes any value holding a delimiter, so one cannot run into the next), in the
# order of their ids: no sort by name for a check made on every page.
DIGEST = (
    "SELECT encode(sha256(convert_to(coalesce(string_agg(t::text, E'\\n' ORDER BY t.pk), ''), 'UTF8')),"
    " 'hex') FROM ({rows}) t"
)
# The rows in their order, each with the digest of them all (a subquery run once, in the same statement).
READ = "SELECT ({digest}), t.* FROM ({rows}) t"
# Entries are found by their digest, so they never go stale; they expire only to free the cache.
CHOICES_SECONDS = 3600


def read_digests(fields):
    """Read the digests of the ListedChoiceFields among `fields` together, one statement per database
    (the therapists and the locations: one round trip, not two, on every report page), and each field's
    list from the cache or the database."""
    plans = {}
    for field in fields:
        if isinstance(field, ListedChoiceField) and field._listed is None:
            plan = field.plan()
            plans.setdefault(plan[0], []).append((field, plan))
    for database, group in plans.items():
        statement = "SELECT " + ", ".join(f"({DIGEST.format(rows=plan[1])})" for _, plan in group)
        with connections[database].cursor() as cursor:
            cursor.execute(statement, [value for _, plan in group for value in plan[2]])
            digests = cursor.fetchone()
        for (field, plan), digest in zip(group, digests, strict=True):
            field._digest = digest
            field.listed(plan)


def choices_key(query, digest):
    return f"reports:choices:{hashlib.sha256(query.encode()).hexdigest()}:{digest}"


def user_label(full_name, email):
    """User.__str__ from its two columns: the name, else the e-mail."""
    return full_name or email


def default_filter(today=None):
    today = today or timezone.localdate()
    return ReportFilter(start=today - timedelta(days=DEFAULT_RANGE_DAYS - 1), end=today)


class ReportFilterForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    therapist = ListedChoiceField(
        label="Therapist",
        queryset=User.objects.filter(role=Role.PHYSIO).order_by("full_name"),
        shown=("full_name", "email"),
        label_from_values=user_label,  # User.__str__
        required=False,
        empty_label="All therapists",
        error_messages={"invalid_choice": "Choose a physiotherapist on staff: that one is not known."},
    )

    def __init__(self, data=None, **kwargs):
        if data is not None and not data.get("start") and not data.get("end"):
            # A first visit with no dates (or only a therapist) means the default range.
            fallback = default_filter()
            data = data.copy()
            data["start"], data["end"] = fallback.start.isoformat(), fallback.end.isoformat()
        super().__init__(data, **kwargs)
        Location = location_model()
        if Location is not None:
            self.fields["location"] = ListedChoiceField(
                label="Location",
                queryset=Location.objects.order_by("name"),
                shown=("name",),
                label_from_values=str,  # Location.__str__: its name
                required=False,
                empty_label="All locations",
                error_messages={
                    "invalid_choice": "Choose one of the clinic's locations: that one is not known."
                },
            )

    def as_filters(self):
        """The form as the reports pages show it (Bootstrap's markup, as crispy-forms wrote it): built as
        strings, since crispy's templates and Django's select widget, one template per option, took a
        third of the dashboard's time (issue 17). Every value and label is escaped."""
        read_digests(self.fields.values())
        cells = "".join(
            f'<div class="col-sm-6 col-lg">{field_html(self[name])}</div>' for name in self.fields
        )
        return mark_safe(  # noqa: S308 - field_html escapes every value
            '<form data-testid="report-filters" method="get"><div class="row g-2 align-items-start">'
            f"{cells}"
            '<div class="col-auto"><input type="submit" name="apply" value="Apply" '
            'class="btn btn-primary mt-sm-4" id="submit-id-apply"></div></div></form>'
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        for name in ("start", "end"):
            day = cleaned.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, f"Choose a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}.")
                cleaned.pop(name, None)
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", f"The end ({end:%Y-%m-%d}) is before the start ({start:%Y-%m-%d}).")
            elif (end - start).days + 1 > MAX_RANGE_DAYS:
                self.add_error("end", f"Choose a range of at most {MAX_RANGE_DAYS // 366} years.")
        return cleaned

    def report_filter(self):
        """The ReportFilter of a valid form."""
        data = self.cleaned_data
        return ReportFilter(
            start=data["start"],
            end=data["end"],
            therapist=data.get("therapist"),
            location=data.get("location"),
        )


SELECTED = {True: " selected", False: ""}


def field_html(bound):
    """One field of the filters: label, input (date, select, checkbox or hidden), help text and errors."""
    widget, field = bound.field.widget, bound.field
    ident = escape(bound.auto_id)
    name = escape(bound.html_name)
    if isinstance(widget, forms.HiddenInput):
        value = widget.format_value(bound.value())
        shown = "" if value is None else f' value="{escape(value)}"'
        return f'<input type="hidden" name="{name}"{shown} id="{ident}">'
    errors = bound.errors
    invalid = " is-invalid" if errors else ""
    described = []
    if field.help_text:
        described.append(f"{bound.auto_id}_helptext")
    if errors:
        described.append(f"{bound.auto_id}_error")
    aria = ' aria-invalid="true"' if errors else ""
    if described:
        aria += f' aria-describedby="{escape(" ".join(described))}"'
    feedback = ""
    if errors:
        feedback = "".join(
            f'<span id="error_{n}_{ident}"><strong>{escape(error)}</strong></span>'
            for n, error in enumerate(errors, 1)
        )
        feedback = f'<div id="{ident}_error" class="invalid-feedback">{feedback}</div>'
    help_text = (
        f'<div id="{ident}_helptext" class="form-text">{escape(field.help_text)}</div>'
        if field.help_text
        else ""
    )
    label = escape(field.label)
    if isinstance(widget, forms.CheckboxInput):
        checked = " checked" if widget.check_test(bound.value()) else ""
        css = escape(type(widget).__name__.lower())
        return (
            f'<div class="mb-3"><div id="div_{ident}" class="form-check">'
            f'<input type="checkbox" name="{name}" class="{css} form-check-input{invalid}"{aria} '
            f'id="{ident}"{checked}>'
            f'<label for="{ident}" class="form-check-label">{label}</label>{feedback}{help_text}</div></div>'
        )
    required = " required" if field.required else ""
    if field.required:
        label = (
            f'<label for="{ident}" class="form-label requiredField">{label}'
            '<span class="asteriskField">*</span></label>'
        )
    else:
        label = f'<label for="{ident}" class="form-label">{label}</label>'
    if isinstance(widget, forms.Select):
        chosen = bound.value()
        chosen = "" if chosen is None else str(chosen)
        if isinstance(field, ListedChoiceField):
            options = field.options_html(chosen)
        else:
            options = "".join(
                f'<option value="{html.escape(str(value))}"{SELECTED[str(value) == chosen]}>'
                f"{html.escape(str(text))}</option>"
                for value, text in field.choices
            )
        control = (
            f'<select name="{name}" class="select form-select{invalid}"{aria} id="{ident}">{options}</select>'
        )
    else:
        value = widget.format_value(bound.value())
        shown = "" if value is None else f' value="{escape(value)}"'
        kind = escape(widget.attrs.get("type", widget.input_type))
        css = escape(type(widget).__name__.lower())
        control = (
            f'<input type="{kind}" name="{name}"{shown} class="{css} form-control{invalid}"'
            f'{required}{aria} id="{ident}">'
        )
    return f'<div id="div_{ident}" class="mb-3">{label}{control}{feedback}{help_text}</div>'


def filter_from_request(request):
    """(form, ReportFilter or None): None when the GET parameters do not hold (the form says why)."""
    form = ReportFilterForm(request.GET)
    if form.is_valid():
        return form, form.report_filter()
    return form, None
