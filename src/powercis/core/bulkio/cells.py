"""Cell parsers: turn what a user typed in Excel (or a CSV cell) into a typed value, or say why not.

Each parser accepts the forms people really type — ``2024/3/1`` and ``2024年3月1日`` as
well as ``2024-03-01``, ``是``/``否`` as well as ``1``/``0``, a code table's Chinese label
as well as its code — and raises :class:`~.problems.CellError` with a reason otherwise.
XLSX cells arrive typed (numbers, datetimes), CSV cells as text; both are accepted.

A parser also describes its format for the template's notes (``describe``) and turns a
stored value back into a cell for exports (``to_cell``), so import and export agree.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from decimal import Decimal, InvalidOperation
from operator import mul

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from . import problems as P
from .problems import CellError

#: what surrounds a value without being part of it: spaces (also full-width and no-break), BOM, zero-width space
STRIP = " \t\r\n\u3000\ufeff\u200b\xa0"


def text_of(raw) -> str:
    """A cell as text: integral numbers without Excel's ``.0``; ``="0123"`` (kept-leading-zero form) unwrapped."""
    if raw is None:
        return ""
    if raw.__class__ is str:
        text = raw.strip(STRIP)
        if text[:2] == '="' and len(text) >= 3 and text[-1] == '"':
            text = text[2:-1]
        return text
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time(0) else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip(STRIP)


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip(STRIP))


class Parser(ABC):
    """Base: ``parse`` a non-blank cell, ``describe`` the format, ``to_cell`` a value for export."""

    @abstractmethod
    def parse(self, raw, ctx):
        """The cell's value, or :class:`CellError` saying why it is not acceptable."""

    def describe(self) -> str:
        """The format in the reader's language, for the template's notes."""
        return _("Text")

    def to_cell(self, value):
        return "" if value is None else value


class Text(Parser):
    """Text up to ``max_length`` characters; with ``pattern``, a refusal says ``message`` (a message id)."""

    def __init__(self, max_length: int, pattern: re.Pattern | None = None, message: str = ""):
        self.max_length = max_length
        self.pattern = pattern
        self.message = message

    def parse(self, raw, ctx):
        text = text_of(raw)
        if len(text) > self.max_length:
            raise CellError(P.TOO_LONG, max=self.max_length, length=len(text))
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise CellError(self.message or P.BAD_FORMAT)
        return text

    def describe(self):
        text = _("Text of at most %(max)s characters") % {"max": self.max_length}
        return f"{text}. {_(self.message)}" if self.message else text


class Email(Text):
    def __init__(self):
        super().__init__(254)

    def parse(self, raw, ctx):
        text = super().parse(raw, ctx)
        try:
            validate_email(text)
        except ValidationError as exc:
            raise CellError(P.BAD_EMAIL) from exc
        return text

    def describe(self):
        return _("Email address")


class Integer(Parser):
    def __init__(self, minimum: int = 0, maximum: int = 2_147_483_647):
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, raw, ctx):
        if isinstance(raw, bool):
            raise CellError(P.BAD_INTEGER)
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        else:
            text = text_of(raw).replace(",", "")
            if not re.fullmatch(r"[+-]?\d+", text):
                raise CellError(P.BAD_INTEGER)
            value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise CellError(P.OUT_OF_RANGE, min=self.minimum, max=self.maximum)
        return value

    def describe(self):
        return _("Whole number from %(min)s to %(max)s") % {"min": self.minimum, "max": self.maximum}


class Number(Parser):
    """An exact decimal with at most ``digits`` digits before and ``places`` after the point."""

    def __init__(self, digits: int, places: int, minimum: Decimal | None = Decimal("0"),
                 maximum: Decimal | None = None):
        self.digits = digits
        self.places = places
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, raw, ctx):
        if isinstance(raw, bool):
            raise CellError(P.BAD_NUMBER)
        text = text_of(raw).replace(",", "")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise CellError(P.BAD_NUMBER) from exc
        if not value.is_finite():
            raise CellError(P.BAD_NUMBER)
        _sign, digit_tuple, exponent = value.as_tuple()
        if -exponent > self.places:  # 630.00 has two places as typed but fits one: look again without the zeros
            _sign, digit_tuple, exponent = value.normalize().as_tuple()
        if max(0, -exponent) > self.places:
            raise CellError(P.TOO_MANY_DECIMALS, places=self.places)
        if len(digit_tuple) + exponent > self.digits - self.places:
            raise CellError(P.TOO_MANY_DIGITS, digits=self.digits - self.places)
        if self.minimum is not None and value < self.minimum:
            raise CellError(P.TOO_SMALL, min=self.minimum)
        if self.maximum is not None and value > self.maximum:
            raise CellError(P.OUT_OF_RANGE, min=self.minimum, max=self.maximum)
        return value

    def describe(self):
        return _("Number with at most %(places)s decimal places") % {"places": self.places}


class Real(Parser):
    """A measurement such as a longitude, where float is the model's own type."""

    def __init__(self, minimum: float, maximum: float):
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, raw, ctx):
        if isinstance(raw, bool):
            raise CellError(P.BAD_NUMBER)
        try:
            value = float(raw) if isinstance(raw, (int, float)) else float(text_of(raw).replace(",", ""))
        except ValueError as exc:
            raise CellError(P.BAD_NUMBER) from exc
        if not self.minimum <= value <= self.maximum:
            raise CellError(P.OUT_OF_RANGE, min=self.minimum, max=self.maximum)
        return value

    def describe(self):
        return _("Number from %(min)s to %(max)s") % {"min": self.minimum, "max": self.maximum}


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


class Date(Parser):
    def __init__(self, past_only: bool = False):
        self.past_only = past_only

    def parse(self, raw, ctx):
        if isinstance(raw, dt.datetime):
            value = raw.date()
        elif isinstance(raw, dt.date):
            value = raw
        else:
            text = text_of(raw)
            try:  # the common case, YYYY-MM-DD, in C
                value = dt.date.fromisoformat(text) if len(text) == 10 and text[4] == text[7] == "-" else None
            except ValueError:
                value = None
            if value is None:
                value = _loose_date(text)
        if self.past_only and value > (ctx.today if ctx is not None else timezone.localdate()):
            raise CellError(P.FUTURE_DATE, date=value.isoformat())
        return value

    def describe(self):
        return _("Date as YYYY-MM-DD")


def _loose_date(text: str) -> dt.date:
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise CellError(P.BAD_DATE)
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise CellError(P.BAD_DATE) from exc


TRUE_WORDS = {"是", "1", "y", "yes", "true", "t", "√", "✓"}
FALSE_WORDS = {"否", "0", "n", "no", "false", "f", "×"}


class Boolean(Parser):
    def parse(self, raw, ctx):
        if isinstance(raw, bool):
            return raw
        text = text_of(raw).lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise CellError(P.BAD_BOOLEAN)

    def describe(self):
        return _("是 (yes) or 否 (no)")

    def to_cell(self, value):
        return "是" if value else "否"


class Choice(Parser):
    """One of a fixed set of codes; each code may also be written as any of its aliases (e.g. 结算 for settlement)."""

    def __init__(self, options: dict[str, tuple[str, ...]]):
        self.options = options
        self.lookup = {}
        for code, aliases in options.items():
            for word in (code, *aliases):
                self.lookup[word.lower()] = code

    def parse(self, raw, ctx):
        code = self.lookup.get(text_of(raw).lower())
        if code is None:
            raise CellError(P.BAD_CHOICE, choices=self.listing())
        return code

    def listing(self) -> str:
        return ", ".join(f"{code} ({aliases[0]})" if aliases else code for code, aliases in self.options.items())

    def describe(self):
        return _("One of: %(choices)s") % {"choices": self.listing()}


class ChoiceList(Choice):
    """Several choices in one cell, separated by commas (``total,peak,flat,valley`` or ``总,峰,平,谷``)."""

    SEPARATORS = re.compile(r"[,，;；、|/\s]+")

    def parse(self, raw, ctx):
        words = [w for w in self.SEPARATORS.split(text_of(raw)) if w]
        codes = []
        for word in words:
            code = self.lookup.get(word.lower())
            if code is None:
                raise CellError(P.BAD_CHOICE, choices=self.listing())
            if code not in codes:
                codes.append(code)
        return codes

    def describe(self):
        return _("Comma-separated list of: %(choices)s") % {"choices": self.listing()}

    def to_cell(self, value):
        return ",".join(value or [])


class Code(Parser):
    """A code of one of the company's code tables; its Chinese or English label is accepted too."""

    def __init__(self, table: str):
        self.table = table

    def parse(self, raw, ctx):
        text = text_of(raw)
        lookup = ctx.code_lookup(self.table)
        code = lookup.get(text)
        if code is None:
            code = lookup.get(text.lower())
        if code is None:
            raise CellError(P.UNKNOWN_CODE, value=text, table=self.table)
        return code

    def describe(self):
        return _("A code of the table %(table)s (see the code sheet); its label is accepted too") % {
            "table": self.table}


# ---- resident identity card numbers (GB 11643-1999) ----------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def valid_id_number(value: str) -> bool:
    """An 18-character number with its ISO 7064 MOD 11-2 check character, or an old 15-digit number."""
    if re.fullmatch(r"\d{15}", value):
        return True
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return False
    total = sum(map(mul, map(int, value[:17]), _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == value[17].upper()


# ---- unified social credit codes (GB 32100-2015) --------------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def valid_uscc(value: str) -> bool:
    """18 characters from the code's alphabet with its MOD 31 check character."""
    value = value.upper()
    if len(value) != 18 or any(ch not in _USCC_CHARS for ch in value):
        return False
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(value[:17], _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31] == value[17]
