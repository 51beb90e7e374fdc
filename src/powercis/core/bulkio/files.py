"""Files the user downloads: import templates, error reports and exports, as CSV or XLSX.

CSV is written as UTF-8 with a byte-order mark, which Excel on Chinese Windows needs to
show Chinese text instead of mojibake.  Text that a spreadsheet would run as a formula
(``=``, ``+``, ``@``, a leading ``-`` that is not a number) gets a leading apostrophe, so
an export can never carry a formula into someone's Excel (CSV injection).

Templates carry the Chinese headers whatever the interface language: they are data that
the import reads.  The notes (which column is required, the format, the codes) are in
the reader's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..models import CodeTable
from . import problems as P
from .cells import Choice, Code, Text
from .problems import RowError
from .spec import Column, EntitySpec

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("xlsx", "csv")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe(value):
    """A cell value a spreadsheet will show as typed, never evaluate."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r" and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def csv_stream(rows: Iterable[list]) -> Iterator[bytes]:
    """CSV bytes, BOM first, produced row by row (an export of a million rows is never held in memory)."""
    yield b"\xef\xbb\xbf"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(safe(v)) for v in row])
        if count % 1000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_file(sheets: list[tuple[str, list[str], Iterable[list]]], text_columns: dict[str, set[int]] | None = None):
    """An XLSX workbook (write-only, so a large export streams through) as a spooled temporary file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(name) * 2 + 4))
            if index - 1 in (text_columns or {}).get(title, set()):
                sheet.column_dimensions[get_column_letter(index)].number_format = "@"
        cells = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font, cell.fill = bold, fill
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([safe(v) for v in row])
    handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    book.save(handle)
    handle.seek(0)
    return handle


# ---- templates ----------------------------------------------------------------------

GUIDE_LINES = (
    gettext_noop("Fill in the first sheet, one record per row, under the Chinese headers of row 1; "
       "English headers are accepted too."),
    gettext_noop("A file is checked as a whole: if any row has an error, nothing is imported "
       "and the error list says which row, column and why."),
    gettext_noop("Dates as YYYY-MM-DD. Codes as listed on the code sheet; the Chinese label is accepted instead of the code."),
    gettext_noop("Format number columns such as account numbers as text, or Excel drops their leading zeros."),
    gettext_noop("A row whose first cell starts with # is a note and is skipped. The same file cannot be imported twice."),
)



def _describe(column: Column) -> str:
    parts = [_("required") if column.required else _("optional"), column.parser.describe()]
    if column.note:
        parts.append(P.render(column.note))
    if column.default not in (None, "", [], False):
        parts.append(_("default %(value)s") % {"value": column.parser.to_cell(column.default)})
    return "; ".join(parts)


def _code_rows(spec: EntitySpec, company_id: int) -> list[list]:
    rows = []
    for column in spec.columns:
        if isinstance(column.parser, Code):
            table = CodeTable.objects.filter(company_id=company_id, code=column.parser.table).first()
            items = table.items.filter(is_active=True).order_by("sort_order", "code") if table else []
            for item in items:
                rows.append([column.header_zh, item.code, item.label_zh, item.label_en])
        elif isinstance(column.parser, Choice):
            for code, aliases in column.parser.options.items():
                rows.append([column.header_zh, code, aliases[0] if aliases else "", ", ".join(aliases[1:])])
    return rows


def _inline_codes(spec: EntitySpec, company_id: int) -> dict[str, str]:
    listing: dict[str, list[str]] = {}
    for header, code, label_zh, _label_en in _code_rows(spec, company_id):
        listing.setdefault(header, []).append(f"{code}={label_zh}" if label_zh else code)
    return {header: " ".join(items) for header, items in listing.items()}


def template(spec: EntitySpec, company_id: int, fmt: str):
    """The empty import file for ``spec``: (file name, content type, content as bytes or a file)."""
    headers = [c.header_zh for c in spec.columns]
    name = f"import-template-{spec.code}.{fmt}"
    if fmt == "csv":
        codes = _inline_codes(spec, company_id)
        notes = [_describe(c) + (f" [{codes[c.header_zh]}]" if c.header_zh in codes else "") for c in spec.columns]
        notes[0] = "#" + notes[0]
        return name, CSV_TYPE, b"".join(csv_stream([headers, notes]))
    data_title, notes_title, codes_title = _("Data"), _("How to fill in"), _("Codes")
    text = {i for i, c in enumerate(spec.columns) if isinstance(c.parser, (Text, Code, Choice))}
    guide = [[c.header_zh, c.header_en, _("yes") if c.required else _("no"), _describe(c)] for c in spec.columns]
    guide += [[]] + [[P.render(line)] for line in GUIDE_LINES]
    return name, XLSX_TYPE, xlsx_file([
        (data_title, headers, []),
        (notes_title, [_("Column"), _("English header"), _("Required"), _("Format and notes")], guide),
        (codes_title, [_("Column"), _("Code"), _("Chinese label"), _("Also accepted")], _code_rows(spec, company_id)),
    ], {data_title: text}).read()


# ---- error reports ----------------------------------------------------------------------


def error_report(batch_id: int, errors: list[RowError], fmt: str):
    header = [_("Row"), _("Column"), _("Value"), _("Reason")]
    rows = ([e.row or "", e.column, e.value, e.reason] for e in errors)
    name = f"import-{batch_id}-errors.{fmt}"
    if fmt == "csv":
        return name, CSV_TYPE, csv_stream([header, *rows])
    return name, XLSX_TYPE, xlsx_file([(_("Errors"), header, rows)])
