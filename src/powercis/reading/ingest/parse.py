"""A delivered file of register reads as one Polars frame of text columns, whatever its format.

Formats: JSON (a list of objects, or ``{"reads": [...]}``), CSV (UTF-8 with or without
the byte-order mark, or GBK/GB18030 as Excel on Chinese Windows saves it), Parquet, and
XLSX (the first sheet).  The result has the text columns ``meter``, ``register``,
``read_at``, ``value`` and ``estimated`` (null where the file has none) and ``row_no``,
the 1-based number of the data row in the file, which is what a quarantined row is
reported by.

Nothing is interpreted here beyond the layout: values stay text until the engine
validates them (a number in a JSON file is kept as the digits that were sent, never
passed through a binary float), so that "12.30" and "12.3" are the same reading and
"12.34567" is refused rather than rounded.

Headers are matched loosely (case, spaces, underscores and a unit in brackets are
ignored) against English and Chinese names: 表号/电能表, 示数类型/寄存器, 抄表时间/冻结时间,
示数, 估抄.  A "wide" file — one row per meter and time with a column per register
(total, sharp, peak, flat, valley, reactive, demand, reverse, or 总/尖/峰/平/谷/无功/需量/
反向) — is turned into one row per register; an empty register cell is no read.

A file that cannot be read at all (not in the format, no header for a required column,
no rows) raises :class:`~powercis.core.errors.ValidationFailed`: nothing is written.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _

from powercis.core.bulkio import readers
from powercis.core.errors import ValidationFailed

FORMATS = ("json", "csv", "parquet", "xlsx")
REQUIRED = ("meter", "register", "read_at", "value")
COLUMNS = (*REQUIRED, "estimated")

#: header → field; compared after :func:`header_key`
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "meter": ("meter", "meter_no", "meter_asset_no", "asset_no", "comm_address", "表号", "电能表", "电能表号",
              "电能表资产号", "表计资产号", "资产编号", "通信地址", "表地址"),
    "register": ("register", "register_code", "示数类型", "寄存器", "数据项"),
    "read_at": ("read_at", "read_time", "reading_time", "timestamp", "datetime", "frozen_at", "抄表时间", "冻结时间",
                "数据时间"),
    "value": ("value", "reading", "示数", "读数", "表码"),
    "estimated": ("estimated", "估抄", "是否估抄"),
}
#: register code → names it goes by, as a column header of a wide file or as a register value
REGISTER_ALIASES: dict[str, tuple[str, ...]] = {
    "total": ("total", "总", "正向有功总", "有功总", "正向有功总电能"),
    "sharp": ("sharp", "尖", "尖峰"),
    "peak": ("peak", "峰", "高峰"),
    "flat": ("flat", "平", "平段"),
    "valley": ("valley", "谷", "低谷"),
    "reactive": ("reactive", "无功", "无功总"),
    "demand": ("demand", "需量", "最大需量"),
    "reverse": ("reverse", "反向", "反向有功", "反向有功总"),
}
TRUE_TEXTS = ("1", "true", "t", "yes", "y", "是", "估", "估抄")

_UNIT = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = re.compile(r"[\s_\-./]+")


def header_key(text) -> str:
    """A header as compared: lower case, without spaces, underscores, hyphens, dots or a bracketed unit."""
    return _SEPARATORS.sub("", _UNIT.sub("", str(text or "")).strip().lower())


FIELD_BY_HEADER = {header_key(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases}
REGISTER_BY_NAME = {header_key(alias): code for code, aliases in REGISTER_ALIASES.items() for alias in aliases}


def detect_format(content: bytes, file_format: str = "", file_name: str = "") -> str:
    """The format named, else the file name's extension, else what the content looks like."""
    fmt = (file_format or "").strip().lower()
    if fmt:
        if fmt not in FORMATS:
            raise ValidationFailed(fields={"format": [_("Choose one of %(formats)s.")
                                                      % {"formats": ", ".join(FORMATS)}]})
        return fmt
    suffix = Path(file_name or "").suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    if suffix == "txt":
        return "csv"
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.startswith(b"PAR1"):
        return "parquet"
    if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def read_content(path_or_bytes) -> bytes:
    """The bytes of an upload given as bytes, a file-like object or a path."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        return bytes(path_or_bytes)
    if hasattr(path_or_bytes, "read"):
        return path_or_bytes.read()
    return Path(path_or_bytes).read_bytes()


def refused(message) -> ValidationFailed:
    return ValidationFailed(message, code="file_refused")


# ---------------------------------------------------------------------------
# one reader per format: each returns a frame of text columns named as in the file


def _cell_text(value) -> str | None:
    """A cell of JSON, XLSX or Parquet as text: exact digits for numbers, ISO 8601 for times."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return text if text.strip() else None


def _frame_of_records(records: list[dict]) -> pl.DataFrame:
    names: dict[str, None] = {}
    for record in records:
        if not isinstance(record, dict):
            raise refused(_("Each read in a JSON delivery is an object with meter, register, read_at and value."))
        names.update(dict.fromkeys(record))
    columns = {str(name): [_cell_text(r.get(name)) for r in records] for name in names}
    return pl.DataFrame(columns, schema={name: pl.Utf8 for name in columns})


def read_json(content: bytes) -> pl.DataFrame:
    try:
        # numbers are kept as the digits sent: "12.30" must not become a binary float
        data = json.loads(content.decode("utf-8-sig"), parse_float=str, parse_int=str)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise refused(_("The file is not valid JSON: %(error)s") % {"error": exc}) from exc
    if isinstance(data, dict):
        data = data.get("reads")
    if not isinstance(data, list):
        raise refused(_("A JSON delivery is a list of reads, or an object with the list under “reads”."))
    return _frame_of_records(data)


def _separator(text: str) -> str:
    """Comma, tab or semicolon: whichever the first non-blank line has most of."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(content: bytes) -> pl.DataFrame:
    try:
        separator = _separator(content[:65536].decode("utf-8-sig", errors="ignore"))
        return pl.read_csv(content, infer_schema=False, separator=separator, truncate_ragged_lines=True)
    except pl.exceptions.ComputeError:
        # not UTF-8: GBK/GB18030 as Excel on Chinese Windows writes "CSV", refused with the reason if not that either
        text, _encoding = readers.decode(content)
    except pl.exceptions.NoDataError as exc:
        raise refused(_("The file is empty.")) from exc
    return pl.read_csv(text.encode("utf-8"), infer_schema=False, separator=_separator(text),
                       truncate_ragged_lines=True)


def read_xlsx(content: bytes) -> pl.DataFrame:
    """The first sheet; the first non-blank row is the header.  Read-only mode keeps memory flat."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged or foreign file
        raise refused(_("The file is not an Excel workbook (.xlsx).")) from exc
    try:
        sheet = book.worksheets[0]
        header: list[str] | None = None
        columns: list[list] = []
        for cells in sheet.iter_rows(values_only=True):
            if header is None:
                if all(c is None or str(c).strip() == "" for c in cells):
                    continue
                header = [str(c).strip() if c is not None else "" for c in cells]
                while header and not header[-1]:
                    header.pop()
                columns = [[] for _h in header]
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            for i in range(len(header)):
                columns[i].append(_cell_text(cells[i]) if i < len(cells) else None)
    finally:
        book.close()
    if header is None:
        raise refused(_("The file is empty."))
    names = _unique_names(header)
    return pl.DataFrame({name: col for name, col in zip(names, columns)}, schema={n: pl.Utf8 for n in names})


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for i, name in enumerate(header):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def read_parquet(content: bytes) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(content))
    except Exception as exc:  # polars raises ComputeError or an OS error for a file that is not Parquet
        raise refused(_("The file is not a Parquet file.")) from exc
    return frame.select([_as_text(name, dtype) for name, dtype in frame.schema.items()])


def _as_text(name: str, dtype) -> pl.Expr:
    """A typed Parquet column as the text the other formats would carry."""
    col = pl.col(name)
    if dtype == pl.Utf8:
        return col
    if isinstance(dtype, pl.Datetime):
        # an aware time keeps its offset; a naive one is wall-clock time of the installation's zone
        fmt = "%Y-%m-%d %H:%M:%S%.f%:z" if dtype.time_zone else "%Y-%m-%d %H:%M:%S%.f"
        return col.dt.strftime(fmt).alias(name)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d").alias(name)
    if dtype == pl.Boolean:
        return pl.when(col).then(pl.lit("true")).when(col.is_not_null()).then(pl.lit("false")).alias(name)
    return col.cast(pl.Utf8).alias(name)


READERS = {"json": read_json, "csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet}


def read_table(content: bytes, fmt: str) -> pl.DataFrame:
    """The file's rows as text columns named by its header."""
    if not content:
        raise refused(_("The file is empty."))
    return READERS[fmt](content)


# ---------------------------------------------------------------------------
# layout: long or wide, to the engine's columns


def _map_headers(columns: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(field → column) for the fields found and (register → column) for register columns of a wide file."""
    fields: dict[str, str] = {}
    registers: dict[str, str] = {}
    for name in columns:
        key = header_key(name)
        field = FIELD_BY_HEADER.get(key)
        if field is not None and field not in fields:
            fields[field] = name
            continue
        register = REGISTER_BY_NAME.get(key)
        if register is not None and register not in registers:
            registers[register] = name
    return fields, registers


def to_reads(table: pl.DataFrame) -> pl.DataFrame:
    """The engine's frame: row_no, meter, register, read_at, value, estimated (text), one register read per row."""
    table = table.with_row_index("row_no", offset=1)
    fields, wide = _map_headers([c for c in table.columns if c != "row_no"])
    long_layout = "register" in fields and "value" in fields
    if not long_layout and wide:
        missing = [f for f in ("meter", "read_at") if f not in fields]
    else:
        missing = [f for f in REQUIRED if f not in fields]
    if missing:
        expected = "; ".join(f"{f}: {', '.join(FIELD_ALIASES[f][:1] + FIELD_ALIASES[f][-4:])}" for f in missing)
        raise refused(_("The file has no column for %(fields)s (expected headers — %(expected)s).")
                      % {"fields": ", ".join(missing), "expected": expected})
    keep = [pl.col("row_no")] + [pl.col(fields[f]).cast(pl.Utf8).alias(f) for f in ("meter", "read_at", "estimated")
                                 if f in fields]
    if long_layout:
        frame = table.select(*keep, pl.col(fields["register"]).cast(pl.Utf8).alias("register"),
                             pl.col(fields["value"]).cast(pl.Utf8).alias("value"))
    else:
        frame = (table.select(*keep, *[pl.col(c).cast(pl.Utf8).alias(r) for r, c in wide.items()])
                 .unpivot(on=list(wide), variable_name="register", value_name="value",
                          index=["row_no", *[f for f in ("meter", "read_at", "estimated") if f in fields]])
                 .filter(pl.col("value").str.strip_chars().fill_null("") != "")
                 .sort("row_no", maintain_order=True))
    if "estimated" not in frame.columns:
        frame = frame.with_columns(estimated=pl.lit(None, pl.Utf8))
    frame = frame.select("row_no", *COLUMNS)
    if frame.height == 0:
        raise refused(_("The file has no reads."))
    return frame


def read_reads(path_or_bytes, *, file_format: str = "", file_name: str = "") -> tuple[pl.DataFrame, bytes, str]:
    """(reads frame, the file's bytes, the format) of a delivered file."""
    content = read_content(path_or_bytes)
    if not file_name and isinstance(path_or_bytes, (str, Path)):
        file_name = Path(path_or_bytes).name
    fmt = detect_format(content, file_format, file_name)
    return to_reads(read_table(content, fmt)), content, fmt


def reads_of_records(records: list[dict]) -> pl.DataFrame:
    """Rows given as dictionaries (an API body) as the engine's frame."""
    if not records:
        raise refused(_("The delivery has no reads."))
    return to_reads(_frame_of_records([{k: (str(v) if isinstance(v, (decimal.Decimal, int)) and not isinstance(v, bool)
                                            else v) for k, v in r.items()} for r in records]))
