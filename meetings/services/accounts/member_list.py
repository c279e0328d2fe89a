"""Reading a member list file: CSV or XLSX into rows (docs/features/accounts.md, "Importing
a member list").

The first row names the columns (English or Vietnamese headers, any order, any case); every
other non-empty row is one member. CSV is UTF-8, with or without a byte-order mark (what Excel
writes with "CSV UTF-8"), separated by commas or semicolons (Excel's separator in locales with
a decimal comma, such as Vietnamese). XLSX is read with openpyxl, first sheet, values only.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from openpyxl import load_workbook

from meetings.domain.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

MAX_FILE_BYTES = 2 * 1024 * 1024
"""A council of 500 members with long titles is under 100 KB as CSV and XLSX alike."""
MAX_ROWS = 2000
"""More rows than any council has members; the import hashes a password per new account
(argon2, ~50 ms each), so the limit also bounds how long one import takes."""
MAX_XLSX_UNPACKED = 50 * 1024 * 1024
"""An XLSX is a zip: one that would unpack past this is refused before openpyxl reads it."""
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = ("name", "username", "role", "title", "email")
_HEADERS = {
    "name": "name",
    "full name": "name",
    "ho va ten": "name",
    "ho ten": "name",
    "ten": "name",
    "username": "username",
    "login": "username",
    "ten dang nhap": "username",
    "tai khoan": "username",
    "role": "role",
    "vai tro": "role",
    "title": "title",
    "position": "title",
    "chuc vu": "title",
    "chuc danh": "title",
    "email": "email",
    "e-mail": "email",
    "thu dien tu": "email",
}


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d): how headers and role words are compared."""
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


@dataclass(frozen=True)
class ListRow:
    number: int
    """The row's number in the file as a spreadsheet shows it (the header is row 1)."""
    values: dict[str, str]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFC", str(value)).strip()


def _is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise PayloadTooLarge("the spreadsheet unpacks to too much data")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnsupportedMedia(
            f"the file is not a readable XLSX spreadsheet ({type(exc).__name__})",
            code="bad_file",
        ) from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell(v) for v in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[list[str]]:
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise UnsupportedMedia(
            "an old Excel 97-2003 workbook (.xls): save it as .xlsx or 'CSV UTF-8'",
            code="bad_file",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnsupportedMedia(
            "the file is neither an XLSX spreadsheet nor UTF-8 text: save it as "
            "'CSV UTF-8' or as an Excel workbook (.xlsx)",
            code="bad_file",
        ) from None
    if "\x00" in text:
        raise UnsupportedMedia("the file is not a CSV text file", code="bad_file")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def read_member_list(data: bytes) -> list[ListRow]:
    """The member rows of a CSV or XLSX file; refuses a file that is neither, too large, or
    without the name and username columns."""
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"a member list has at most {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if not data.strip():
        raise InvalidInput("the file is empty", code="empty_file")
    try:
        table = _xlsx_rows(data) if _is_xlsx(data) else _csv_rows(data)
    except csv.Error as exc:
        raise UnsupportedMedia(f"the file is not readable CSV ({exc})", code="bad_file") from None
    header_at = next((i for i, row in enumerate(table) if any(row)), None)
    if header_at is None:
        raise InvalidInput("the file is empty", code="empty_file")
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for index, title in enumerate(table[header_at]):
        if not title:
            continue
        key = _HEADERS.get(fold(title))
        if key is None:
            unknown.append(title)
        elif key in columns.values():
            raise InvalidInput(f"the column {key!r} appears twice", code="bad_header")
        else:
            columns[index] = key
    missing = [name for name in ("name", "username", "role") if name not in columns.values()]
    if missing:
        raise InvalidInput(
            "the first row must name the columns: name, username, role, title, email "
            f"(missing: {', '.join(missing)})",
            code="bad_header",
            details={"missing": missing, "unknown": unknown},
        )
    rows: list[ListRow] = []
    for offset, cells in enumerate(table[header_at + 1 :], start=header_at + 2):
        if not any(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise PayloadTooLarge(f"a member list has at most {MAX_ROWS} rows")
        values = {key: "" for key in COLUMNS}
        for index, key in columns.items():
            values[key] = cells[index] if index < len(cells) else ""
        rows.append(ListRow(offset, values))
    if not rows:
        raise InvalidInput("the file has a header but no members", code="empty_file")
    return rows
