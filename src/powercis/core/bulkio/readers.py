"""Reading an uploaded file into a header and numbered rows: CSV (UTF-8 or GBK) and XLSX.

The format is taken from the content, not the file name: an .xlsx is a ZIP archive, an
old .xls an OLE2 compound file (refused with advice), anything else is read as CSV.

CSV encodings, in the order tried:

* UTF-8, with or without the byte-order mark Excel's “CSV UTF-8” writes;
* GB18030 (a superset of GBK and GB2312), which Excel on Chinese Windows writes as plain
  “CSV”.  GB18030 accepts most byte sequences, so a file in another encoding (Big5,
  Shift-JIS, Latin-1) may decode as nonsense instead of failing.  Such nonsense consists
  of rare characters; real Chinese text consists mostly of the 6,763 common characters of
  GB2312.  A file whose distinct non-ASCII characters are mostly outside GB2312, or that
  decodes to control or private-use characters, is refused rather than imported garbled.

A UTF-16 file (Excel's “Unicode text”) is refused by name.  Row numbers are those Excel
shows: the header is row 1 when it is the first line, blank rows still count.  A row
whose first non-blank cell starts with ``#`` is a note (the CSV template's second row)
and is skipped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from . import problems as P
from .cells import is_blank
from .problems import FileRefused

MAX_BYTES = 100 * 1024 * 1024
MAX_ROWS = 200_000
#: a GB18030 reading is refused when more than this share of its distinct non-ASCII characters is outside GB2312
RARE_SHARE = 0.25

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\uf8ff]")


@dataclass
class Table:
    file_format: str
    encoding: str
    header_row: int = 0
    header: list[str] = field(default_factory=list)
    #: (row number as Excel shows it, cells)
    rows: list[tuple[int, list]] = field(default_factory=list)


def read(content: bytes) -> Table:
    """The header and data rows of an uploaded file, or :class:`FileRefused` saying why it cannot be read."""
    if not content:
        raise FileRefused(P.EMPTY_FILE)
    if len(content) > MAX_BYTES:
        raise FileRefused(P.TOO_LARGE, size=round(len(content) / 1048576, 1), limit=MAX_BYTES // 1048576)
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise FileRefused(P.OLD_EXCEL)
    text, encoding = decode(content)
    return _read_csv(text, encoding)


def _line_of(content: bytes, position: int) -> int:
    return content.count(b"\n", 0, position) + 1


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with (``utf-8``, ``utf-8-sig`` or ``gb18030``)."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in content[:4096]:
        raise FileRefused(P.UTF16)
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRefused(P.BAD_UTF8_BOM, line=_line_of(content, exc.start + 3)) from exc
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_failed_at = exc.start
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError as exc:
        # the encoding that read further is probably the one meant: name the line where it failed
        raise FileRefused(P.BAD_ENCODING, line=_line_of(content, max(exc.start, utf8_failed_at))) from exc
    _check_plausible_gbk(text)
    return text, "gb18030"


def _check_plausible_gbk(text: str) -> None:
    odd = _CONTROL.search(text)
    if odd:
        raise FileRefused(P.UNLIKELY_GBK, chars=odd.group().encode("unicode_escape").decode())
    distinct = set(_NON_ASCII.findall(text))
    rare = sorted(ch for ch in distinct if not _in_gb2312(ch))
    if rare and len(rare) > RARE_SHARE * len(distinct):
        raise FileRefused(P.UNLIKELY_GBK, chars="".join(rare[:5]))


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _is_note(cells) -> bool:
    for cell in cells:
        if not is_blank(cell):
            return isinstance(cell, str) and cell.lstrip().startswith("#")
    return False


def _collect(table: Table, numbered_rows) -> Table:
    """Take the first non-blank row as the header, keep the data rows after it (without blank and note rows)."""
    for number, cells in numbered_rows:
        if all(is_blank(c) for c in cells):
            continue
        if not table.header:
            table.header_row = number
            table.header = ["" if c is None else str(c).strip() for c in cells]
            while table.header and not table.header[-1]:
                table.header.pop()
            continue
        if _is_note(cells):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise FileRefused(P.TOO_MANY_ROWS, limit=MAX_ROWS)
        table.rows.append((number, list(cells)))
    if not table.header:
        raise FileRefused(P.NO_HEADER)
    return table


def _read_csv(text: str, encoding: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _collect(Table("csv", encoding), enumerate(reader, start=1))
    except csv.Error as exc:
        raise FileRefused(P.BAD_CSV, detail=str(exc)) from exc


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers record a wrong sheet size; read what is there
            return _collect(Table("xlsx", ""), enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
        finally:
            workbook.close()
    except FileRefused:
        raise
    except Exception as exc:  # a damaged archive fails in zipfile, the XML parser or openpyxl, each its own way
        raise FileRefused(P.BAD_XLSX) from exc
