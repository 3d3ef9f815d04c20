"""Reading an uploaded Excel workbook (XLSX, as Jane exports too) as the same Table a CSV file gives, or
saying plainly why it cannot be read.

The first worksheet is read in openpyxl's read-only mode (rows streamed, not the whole sheet built in
memory), with the values Excel last calculated rather than formulas. Each cell becomes the text a CSV
export would hold: dates as 1985-03-14, whole numbers without ".0" (a PHN or phone typed as a number),
so the mapping, the dry run and the import treat both the same. Refused, with what to do: a file that is
not a workbook (not a zip, or a zip without a workbook inside), a password-protected one (Excel encrypts
those in an OLE container), one whose cells would unpack to more than MAX_UNPACKED bytes (a zip bomb, or
a sheet far beyond a patient list), and one whose first sheet is empty.
"""

import io
import zipfile
from datetime import date, datetime, time

from .csvfiles import Rows, Table, UnreadableFile

MAX_UNPACKED = 300 * 1024 * 1024  # a 250,000-row patient list unpacks to well under this
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def is_workbook(data, name=""):
    """Whether the upload is to be read as a workbook: a zip, or any file named .xlsx (so that one that is
    not a workbook is refused as such, not read as text)."""
    return data.startswith(ZIP_MAGIC) or name.lower().endswith((".xlsx", ".xlsm"))


def is_encrypted(data):
    return data.startswith(OLE_MAGIC) and ENCRYPTED in data


def cell_text(value):
    """The cell as an export's CSV would write it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_workbook(data, *, label="file", on_header=None):
    """The first worksheet as a Table (header, rows with their row numbers). Refuses what the module's
    docstring lists, and what csvfiles.Rows refuses (a bad header, too many rows, a cell too long).
    on_header(header) may refuse the header before any row is read."""
    if is_encrypted(data):
        raise UnreadableFile(
            f"The {label} is a password-protected Excel workbook: the import cannot open it. Open it in "
            "Excel, remove the password (File, Info, Protect Workbook), save it and upload it again.",
            code="encrypted",
        )
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableFile(
            f"The {label} is named as an Excel workbook (.xlsx) but is not one (an XLSX file is a zip "
            "archive; this is not). Export the list again from Jane or Cliniko.",
            code="not_workbook",
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _broken(label) from None
    if unpacked > MAX_UNPACKED:
        raise UnreadableFile(
            f"The {label} unpacks to {unpacked / 1024 / 1024:,.0f} MB: far more than a patient or "
            "appointment list. Export only the list, or save it as CSV.",
            code="junk",
        )
    if "xl/workbook.xml" not in archive.namelist():
        raise UnreadableFile(
            f"The {label} is a zip archive but not an Excel workbook (no workbook inside it). "
            "Export the list again as XLSX or CSV.",
            code="not_workbook",
        )
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return _table(workbook, label, on_header)
        finally:
            workbook.close()
    except UnreadableFile:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, XML errors, ValueError) for a broken file
        raise _broken(label) from None


def _broken(label):
    return UnreadableFile(
        f"The {label} is a damaged Excel workbook: it cannot be read. Open it in Excel and save it again "
        "(as XLSX or CSV).",
        code="broken",
    )


def _table(workbook, label, on_header):
    if not workbook.worksheets:
        raise UnreadableFile(f"The {label} holds no worksheet.", code="empty")
    sheet = workbook.worksheets[0]
    table = Rows(label, on_header, place="Row")
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [cell_text(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()  # formatting reaches past the last column with a value
        if any(cells):
            table.add(number, cells)
    if table.header is None:
        raise UnreadableFile(
            f"The first sheet (\u201c{sheet.title}\u201d) of the {label} is empty: no header, no rows. "
            "Export the list again, or move it to the first sheet.",
            code="empty",
        )
    notes = [f"The {label} is an Excel workbook; its first sheet (\u201c{sheet.title}\u201d) was read."]
    if len(workbook.worksheets) > 1:
        notes[0] += f" The other {len(workbook.worksheets) - 1} sheet(s) were left out."
    return Table(header=table.header, rows=table.rows, delimiter="", notes=notes)
