"""Reading an uploaded CSV export as a table, or saying plainly why it cannot be read.

Exports reach the clinic through spreadsheets, so the file may carry a byte order mark (Excel's "CSV UTF-8"),
use semicolons between columns (a spreadsheet set to a European locale), be in Windows-1252 (Excel's plain
"CSV" on Windows), or not be a CSV at all (an old XLS workbook, a PDF, junk). The first two are read as
they are and said so; the rest are refused with a message naming what was found, and nothing is stored.
An XLSX workbook is read by workbooks.py into the same Table.
"""

import codecs
import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

ENCODINGS = {"utf-8": "UTF-8 (CSV UTF-8)", "cp1252": "Windows-1252 (Excel's plain CSV on Windows)"}
MAX_ROWS = 250_000
MAX_COLUMNS = 200
MAX_CELL = 10_000
SNIFF_BYTES = 64 * 1024


class UnreadableFile(ValidationError):
    """The file is not a CSV table the import can read; the message says why and what to do."""


@dataclass
class Table:
    header: list
    rows: list  # [(line number, [cells])], one per non-empty data row
    delimiter: str = ","
    notes: list = field(default_factory=list)


def _kind_of_binary(data):
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel workbook (XLS): open it and save it as CSV"
    if data.startswith(b"%PDF"):
        return "a PDF document, not a CSV export"
    return "a binary file, not text: export the list from Jane or Cliniko as CSV"


def decode(data, encoding, label):
    """(text, notes): the file's text. A UTF-8 or UTF-16 byte order mark decides the encoding (and is
    dropped); otherwise `encoding` does. Refuses binary files and text that is not in that encoding."""
    notes = []
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
        notes.append(
            f"The {label} starts with a byte order mark (as Excel's \u201cCSV UTF-8\u201d writes); "
            "it was skipped."
        )
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        notes.append(f"The {label} is in UTF-16 (Excel's \u201cUnicode text\u201d); it was read as such.")
    elif b"\x00" in data[:SNIFF_BYTES] or data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")):
        raise UnreadableFile(f"The {label} is {_kind_of_binary(data)}.", code="binary")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableFile(
            f"The {label} is not {ENCODINGS.get(encoding, encoding)} text: "
            f"byte 0x{data[error.start]:02X} on line {line} cannot be read. "
            "Save it as \u201cCSV UTF-8\u201d, or choose the file's encoding above.",
            code="encoding",
        ) from None
    if "\x00" in text:
        raise UnreadableFile(
            f"The {label} holds NUL characters: it is {_kind_of_binary(data)}.", code="binary"
        )
    return text, notes


def sniff_delimiter(text):
    """The separator of the header line: a comma unless the line has more semicolons (or tabs)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def read_table(data, *, encoding="utf-8", label="file", on_header=None, name=""):
    """The file as a Table (header, rows with their line numbers). An Excel workbook (a zip, or a file
    named .xlsx) is read by workbooks.read_workbook, with the same checks. Refuses an empty file, a
    binary one, one in another encoding, one whose CSV is broken, a header with an empty or repeated
    column name, and more than MAX_ROWS rows or MAX_COLUMNS columns. on_header(header) may refuse the
    header (by raising UnreadableFile) before any row is read."""
    if not data:
        raise UnreadableFile(f"The {label} is empty.", code="empty")
    from .workbooks import is_encrypted, is_workbook, read_workbook

    if is_workbook(data, name) or is_encrypted(data):
        return read_workbook(data, label=label, on_header=on_header)
    text, notes = decode(data, encoding, label)
    delimiter = sniff_delimiter(text)
    if delimiter == ";":
        notes.append(
            f"The {label} separates its columns with semicolons (a spreadsheet set to a European "
            "locale); it was read that way."
        )
    elif delimiter == "\t":
        notes.append(f"The {label} separates its columns with tabs; it was read that way.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table = Rows(label, on_header, place="Line")
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                table.add(reader.line_num, [cell.strip() for cell in cells])
    except csv.Error as error:
        raise UnreadableFile(
            f"Line {reader.line_num} of the {label} is not valid CSV ({error}). "
            "Export the list again as CSV.",
            code="csv",
        ) from None
    if table.header is None:
        raise UnreadableFile(f"The {label} holds no rows, not even a header.", code="empty")
    return Table(header=table.header, rows=table.rows, delimiter=delimiter, notes=notes)


class Rows:
    """A table as its reader (a CSV file's or a workbook's) finds its non-empty rows: the first is the
    header (check_header, then on_header), the others its rows, each with its line or row number. Refuses
    more than MAX_ROWS rows and a cell of more than MAX_CELL characters (`place` names the number)."""

    def __init__(self, label, on_header=None, *, place):
        self.label, self.on_header, self.place = label, on_header, place
        self.header, self.rows = None, []

    def add(self, number, cells):
        if self.header is None:
            check_header(cells, self.label)
            if self.on_header is not None:
                self.on_header(cells)
            self.header = cells
            return
        if len(self.rows) >= MAX_ROWS:
            raise UnreadableFile(
                f"The {self.label} has more than {MAX_ROWS:,} rows: split it and import each part.",
                code="too_many",
            )
        if any(len(cell) > MAX_CELL for cell in cells):
            raise UnreadableFile(
                f"{self.place} {number} of the {self.label} holds a cell of more than {MAX_CELL:,} "
                "characters: this is not a patient or appointment list.",
                code="junk",
            )
        self.rows.append((number, cells))


def check_header(header, label):
    if len(header) > MAX_COLUMNS:
        raise UnreadableFile(
            f"The first line of the {label} has {len(header)} columns: it is not the header of a patient or "
            "appointment list.",
            code="junk",
        )
    if any(len(name) > 200 for name in header):
        raise UnreadableFile(
            f"The first line of the {label} is not a header of column names (a name is over 200 characters).",
            code="junk",
        )
    seen = set()
    for position, name in enumerate(header, start=1):
        if not name:
            raise UnreadableFile(
                f"Column {position} of the {label} has no name in the header line.", code="header"
            )
        if name.lower() in seen:
            raise UnreadableFile(
                f"Two columns of the {label} are both named \u201c{name}\u201d.", code="header"
            )
        seen.add(name.lower())
