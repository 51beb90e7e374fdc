"""Import errors: kept as message ids with parameters, rendered in the language of whoever reads them.

A file is validated once and its error list may be read later, downloaded, or read
by a colleague who uses the other language; so an error stores the English message id
(marked with ``gettext_noop`` for the catalogue) and its parameters, and
:func:`render` translates at the moment it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_noop

from ..errors import ValidationFailed

# ---- file-level refusals ------------------------------------------------------------
EMPTY_FILE = gettext_noop("The file is empty.")
TOO_LARGE = gettext_noop("The file is %(size)s MB; at most %(limit)s MB can be imported at once. Split it into several files.")
TOO_MANY_ROWS = gettext_noop("The file has more than %(limit)s data rows; split it into several files.")
UTF16 = gettext_noop("The file is saved as UTF-16 (“Unicode text”). Save it from Excel as “CSV UTF-8” or as .xlsx.")
BAD_ENCODING = gettext_noop("The file is neither UTF-8 nor GBK/GB18030 text (line %(line)s cannot be read). "
                  "Save it from Excel as “CSV UTF-8” or as .xlsx.")
BAD_UTF8_BOM = gettext_noop("The file starts with a UTF-8 mark but line %(line)s is not UTF-8. Save it again as “CSV UTF-8”.")
UNLIKELY_GBK = gettext_noop("The file reads as GBK only with unusual characters such as “%(chars)s”; it is probably in "
                  "another encoding. Save it from Excel as “CSV UTF-8” or as .xlsx.")
OLD_EXCEL = gettext_noop("This is an Excel 97-2003 (.xls) workbook; save it as .xlsx or as CSV.")
BAD_XLSX = gettext_noop("The file cannot be read as an Excel workbook (.xlsx).")
BAD_CSV = gettext_noop("The file cannot be read as CSV: %(detail)s")
NO_HEADER = gettext_noop("The file has no header row.")
NO_ROWS = gettext_noop("The file has a header but no data rows.")
ALREADY_COMMITTED = gettext_noop("This file was already imported as batch #%(batch)s on %(date)s by %(user)s; "
                       "importing it again would load the same rows twice.")

# ---- header -------------------------------------------------------------------------
UNKNOWN_COLUMN = gettext_noop("This column is not part of the template for %(entity)s.")
DUPLICATE_COLUMN = gettext_noop("This column appears twice (also column %(other)s).")
MISSING_COLUMN = gettext_noop("The required column is missing.")
UNNAMED_VALUE = gettext_noop("Column %(column)s has a value but no header.")

# ---- cells --------------------------------------------------------------------------
REQUIRED = gettext_noop("A value is required.")
TOO_LONG = gettext_noop("At most %(max)s characters (this has %(length)s).")
BAD_FORMAT = gettext_noop("The value does not have the expected format.")
BAD_INTEGER = gettext_noop("Not a whole number.")
BAD_NUMBER = gettext_noop("Not a number.")
OUT_OF_RANGE = gettext_noop("Must be between %(min)s and %(max)s.")
TOO_SMALL = gettext_noop("Must be at least %(min)s.")
TOO_MANY_DECIMALS = gettext_noop("At most %(places)s decimal places.")
TOO_MANY_DIGITS = gettext_noop("At most %(digits)s digits before the decimal point.")
BAD_DATE = gettext_noop("Not a date; write it as YYYY-MM-DD, e.g. 2024-03-01.")
FUTURE_DATE = gettext_noop("The date %(date)s lies in the future.")
BAD_BOOLEAN = gettext_noop("Write 是 or 否 (yes or no).")
BAD_CHOICE = gettext_noop("Not one of: %(choices)s.")
UNKNOWN_CODE = gettext_noop("“%(value)s” is not a code of the table %(table)s.")
BAD_EMAIL = gettext_noop("Not an email address.")
BAD_ID_NUMBER = gettext_noop("Not a valid resident identity card number (check digit or length).")
BAD_USCC = gettext_noop("Not a valid unified social credit code (18 characters with a check character).")

# ---- rows ---------------------------------------------------------------------------
DUPLICATE_IN_FILE = gettext_noop("The same %(column)s as row %(first)s of this file.")
ALREADY_EXISTS = gettext_noop("“%(value)s” is already in use.")
NOT_FOUND = gettext_noop("“%(value)s” was not found (or is outside your data scope).")
UNKNOWN_ORG = gettext_noop("There is no org with the code “%(value)s” in this company.")
ORG_NOT_IN_TARGET = gettext_noop("The org %(value)s is not within the target org %(target)s.")
ORG_OUT_OF_SCOPE = gettext_noop("The org %(value)s is outside your data scope for this import.")
ORG_INACTIVE = gettext_noop("The org %(value)s is deactivated.")


def render(msgid: str, params: dict | None = None) -> str:
    """The message in the active language, with its parameters filled in."""
    text = gettext(msgid)
    return text % params if params else text


class CellError(Exception):
    """A value that cannot be used: raised by a cell parser, recorded against its row and column."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


class FileRefused(ValidationFailed):
    """The file as a whole cannot be read (encoding, format, size); nothing was validated or written."""

    code = "import_refused"

    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params
        super().__init__(render(msgid, params))


@dataclass(frozen=True)
class RowError:
    """One error as the user sees it in Excel: row number, column header, the value, the reason."""

    row: int
    column: str
    value: str
    msgid: str
    params: dict

    @property
    def reason(self) -> str:
        return render(self.msgid, self.params)

    def stored(self) -> list:
        """A JSON-safe form (parameters such as decimals and dates become text)."""
        params = {k: v if isinstance(v, (int, float, str)) or v is None else str(v) for k, v in self.params.items()}
        return [self.row, self.column, self.value, self.msgid, params]

    @classmethod
    def from_stored(cls, item: list) -> "RowError":
        row, column, value, msgid, params = item
        return cls(row, column, value, msgid, params or {})
