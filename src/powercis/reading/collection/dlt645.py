"""DL/T 645-2007 frame codec: build requests to meters and turn their replies into named values.

Everything here follows ``domain/metering-audit.md`` §5: the frame layout (§5.1), the data
identifiers and their formats (§5.2) and the public test vectors T1–T15 (§5.3) that the tests
decode and re-encode byte for byte.

The module is pure Python with no Django import at load time, so a collector process can
use it without the web application; user-facing messages go through Django's catalogue only
when Django is running.  Values are :class:`~decimal.Decimal` (never float): they end up as
register reads that bills are computed from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Union

#: four wake-up bytes the master sends before a frame (§5.1); never part of the checksum
PREAMBLE = b"\xfe\xfe\xfe\xfe"
PREAMBLE_BYTE = 0xFE
START = 0x68
END = 0x16
#: every data byte travels with 33H added (§5.1)
OFFSET = 0x33
#: 68 + address(6) + 68 + C + L + CS + 16: a frame with no data
MIN_FRAME_LENGTH = 12
#: L is one byte
MAX_DATA_LENGTH = 0xFF

#: time sync goes to everyone (§5.1)
BROADCAST_ADDRESS = "999999999999"
#: "whoever is on the line" for reading the communication address (§5.1, T1)
WILDCARD_ADDRESS = "AAAAAAAAAAAA"

# Function codes, control bits D4–D0 (§5.1).
BROADCAST_TIME_SYNC = 0x08
READ_DATA = 0x11
READ_FOLLOW_UP = 0x12
READ_ADDRESS = 0x13
WRITE_DATA = 0x14
WRITE_ADDRESS = 0x15

FUNCTIONS: dict[int, str] = {
    0x03: "security",  # State Grid ESAM extension, seen in field code only [U]
    BROADCAST_TIME_SYNC: "broadcast_time_sync",
    READ_DATA: "read_data",
    READ_FOLLOW_UP: "read_follow_up",
    READ_ADDRESS: "read_address",
    WRITE_DATA: "write_data",
    WRITE_ADDRESS: "write_address",
    0x16: "freeze",
    0x17: "change_baud_rate",
    0x18: "change_password",
    0x19: "clear_max_demand",
    0x1A: "clear_meter",
    0x1B: "clear_events",
    0x1C: "relay_control",  # State Grid extension, seen in field code only [U]
}

#: bits of the ERR byte of an abnormal reply, in bit order (§5.1)
ERROR_FLAGS: tuple[tuple[int, str], ...] = (
    (0x01, "other"),
    (0x02, "no_data"),
    (0x04, "unauthorised"),
    (0x08, "baud_unchangeable"),
    (0x10, "year_zones_exceeded"),
    (0x20, "day_slots_exceeded"),
    (0x40, "tariffs_exceeded"),
)

#: State Grid convention for tariffs 1–4 of forward active energy: 1 尖, 2 峰, 3 平, 4 谷 (§5.2 [U]),
#: named with the register codes of ``powercis.metering.models.REGISTERS``
FORWARD_REGISTERS: dict[int, str] = {0: "total", 1: "sharp", 2: "peak", 3: "flat", 4: "valley"}


def _(message: str) -> str:
    """Translate ``message`` through Django's catalogue once Django is running; as is otherwise.

    Looked up at call time so that importing the codec never needs Django.
    """
    try:
        from django.apps import apps
        from django.utils.translation import gettext
    except ImportError:  # pragma: no cover - Django is a dependency of the project
        return message
    return gettext(message) if apps.ready else message


class Dlt645Error(ValueError):
    """A refusal with a stable ``code`` (for programs and tests) and a readable ``message``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class FrameError(Dlt645Error):
    """Bytes that are not a valid DL/T 645 frame, or a reply the codec cannot interpret.

    Codes: ``too_short``, ``no_start``, ``no_second_start``, ``bad_length``, ``bad_checksum``,
    ``no_end``, ``bad_address``, ``bad_bcd``, ``bad_data``, ``unknown_di``.  ``remaining`` is set
    by :func:`find_frame` to the bytes after the rejected frame, so a stream reader can go on.
    """

    remaining: bytes = b""


class EncodeError(Dlt645Error):
    """Arguments that cannot be put on the wire (address, DI, value or length out of range)."""


# --------------------------------------------------------------------------- addresses and DIs

_ADDRESS_RE = re.compile(r"(?:[0-9]{2}|AA){6}", re.IGNORECASE)
_DI_RE = re.compile(r"[0-9A-F]{8}", re.IGNORECASE)


def _is_bcd(byte: int) -> bool:
    return (byte >> 4) <= 9 and (byte & 0x0F) <= 9


def address_to_wire(address: str) -> bytes:
    """Nameplate number → the 6 address bytes, low byte first (§5.1: ``123456789012`` → ``12 90 78 56 34 12``).

    A byte may be ``AA`` (wildcard, §5.1), so ``AAAAAAAAAAAA`` addresses whoever is on the line.
    """
    if not isinstance(address, str) or not _ADDRESS_RE.fullmatch(address):
        raise EncodeError("bad_address", _("A meter address is 12 digits (the nameplate number); got %(address)r.")
                          % {"address": address})
    return bytes.fromhex(address)[::-1]


def address_from_wire(raw: bytes) -> str:
    """The 6 address bytes of a frame → the nameplate number (``AA`` wildcard bytes kept as ``AA``)."""
    for byte in raw:
        if byte != 0xAA and not _is_bcd(byte):
            raise FrameError("bad_address", _("The address %(address)s is not BCD.") % {"address": to_hex(raw)})
    return bytes(raw[::-1]).hex().upper()


def normalize_di(di: str | int) -> str:
    """A data identifier as the 8-hex-digit string DI3 DI2 DI1 DI0 (``"00010000"``); spaces are ignored."""
    if isinstance(di, int) and not isinstance(di, bool) and 0 <= di <= 0xFFFFFFFF:
        return f"{di:08X}"
    text = di.replace(" ", "") if isinstance(di, str) else ""
    if not _DI_RE.fullmatch(text):
        raise EncodeError("bad_di", _("A data identifier is 8 hexadecimal digits, e.g. 00010000; got %(di)r.")
                          % {"di": di})
    return text.upper()


def di_to_wire(di: str | int) -> bytes:
    """DI → its 4 bytes in wire order, DI0 first (§5.1: ``00010000`` → ``00 00 01 00``, before the 33H offset)."""
    return bytes.fromhex(normalize_di(di))[::-1]


def di_from_wire(raw: bytes) -> str:
    return bytes(raw[::-1]).hex().upper()


def to_hex(raw: bytes) -> str:
    """Bytes as spaced uppercase hex, the way frames are written in logs and in §5.3."""
    return " ".join(f"{byte:02X}" for byte in raw)


def parse_hex(text: str) -> bytes:
    """Hex digits, spaces allowed (``"68 AA AA …"`` or ``"68AAAA…"``) → bytes."""
    digits = "".join(text.split())
    if digits[:2].lower() == "0x":
        digits = digits[2:]
    try:
        if len(digits) % 2:
            raise ValueError
        return bytes.fromhex(digits)
    except ValueError:
        raise EncodeError("bad_hex", _("Not a whole number of hexadecimal bytes: %(text)r.") % {"text": text}) from None


# --------------------------------------------------------------------------- field formats

#: date/time layouts of §5.2, written most significant first like the standard does
_TIME_LAYOUTS: dict[str, str] = {
    "YYMMDDhhmmss": "20{}-{}-{} {}:{}:{}",
    "YYMMDDhhmm": "20{}-{}-{} {}:{}",
    "YYMMDD": "20{}-{}-{}",
    "hhmmss": "{}:{}:{}",
}
_STRFTIME = {"YY": "%y", "MM": "%m", "DD": "%d", "hh": "%H", "mm": "%M", "ss": "%S"}

NUMBER, TIME, DIGITS, BITMAP = "number", "time", "digits", "bitmap"

ValueType = Union[Decimal, str]


@dataclass(frozen=True)
class Field:
    """One value inside a reply's data: its names, format (as in §5.2, e.g. ``XXXXXX.XX``) and unit.

    ``signed`` fields carry the sign in bit 7 of the most significant byte (§5.2, "signed BCD").
    ``register`` is the register code the value is read into (``total``, ``sharp`` … ``reverse``),
    for the values a bill uses.  Format letters: ``X`` number digits, ``N`` plain digits (addresses,
    meter numbers), ``H`` bitmap hex digits, anything else a date/time layout.
    """

    name: str
    name_en: str
    fmt: str
    unit: str = ""
    signed: bool = False
    register: str | None = None

    @property
    def kind(self) -> str:
        if set(self.fmt) <= {"X", "."}:
            return NUMBER
        if set(self.fmt) == {"N"}:
            return DIGITS
        if set(self.fmt) == {"H"}:
            return BITMAP
        return TIME

    @property
    def digits(self) -> int:
        return len(self.fmt.replace(".", ""))

    @property
    def size(self) -> int:
        """Bytes on the wire: two BCD digits a byte."""
        return self.digits // 2

    @property
    def decimals(self) -> int:
        return len(self.fmt.partition(".")[2])

    def decode(self, raw: bytes) -> ValueType:
        """Wire bytes (33H already removed, low byte first) → Decimal for numbers, str otherwise."""
        msb_first = bytearray(raw[::-1])
        if self.kind == BITMAP:
            return msb_first.hex().upper()
        negative = False
        if self.signed and msb_first[0] & 0x80:
            negative = True
            msb_first[0] &= 0x7F
        digits = msb_first.hex()
        if not digits.isdigit():
            raise FrameError("bad_bcd", _("%(name)s: %(raw)s is not BCD.") % {"name": self.name_en, "raw": to_hex(raw)})
        if self.kind == DIGITS:
            return digits
        if self.kind == TIME:
            return _TIME_LAYOUTS[self.fmt].format(*(digits[i:i + 2] for i in range(0, len(digits), 2)))
        split = len(digits) - self.decimals
        value = Decimal(f"{digits[:split]}.{digits[split:]}" if self.decimals else digits)
        return -value if negative and value else value

    def encode(self, value: Any) -> bytes:
        """A value as :meth:`decode` returns it (or a date/datetime for time fields) → wire bytes, low byte first."""
        if self.kind == NUMBER:
            msb_first = self._number_bytes(value)
        elif self.kind == TIME:
            msb_first = bytes.fromhex(self._time_digits(value))
        else:
            text = value if isinstance(value, str) else ""
            pattern = r"[0-9]" if self.kind == DIGITS else r"[0-9A-Fa-f]"
            if not re.fullmatch(f"{pattern}{{{self.digits}}}", text):
                raise self._bad_value(value)
            msb_first = bytes.fromhex(text)
        return msb_first[::-1]

    def _number_bytes(self, value: Any) -> bytes:
        # Floats are refused: 0.1 kWh is not exactly 0.1 in binary, and register values must be exact.
        if isinstance(value, (float, bool)):
            raise self._bad_value(value)
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise self._bad_value(value) from None
        if not number.is_finite():
            raise self._bad_value(value)
        scaled = abs(number).scaleb(self.decimals)
        # the sign bit takes the top bit, so a signed field holds at most 7 in its top digit
        limit = 8 * 10 ** (self.digits - 1) if self.signed else 10 ** self.digits
        if scaled != scaled.to_integral_value() or scaled >= limit or (number < 0 and not self.signed):
            raise self._bad_value(value)
        msb_first = bytearray.fromhex(f"{int(scaled):0{self.digits}d}")
        if number < 0:
            msb_first[0] |= 0x80
        return bytes(msb_first)

    def _time_digits(self, value: Any) -> str:
        if isinstance(value, (datetime, date, time)):
            pattern = "".join(_STRFTIME[self.fmt[i:i + 2]] for i in range(0, len(self.fmt), 2))
            return value.strftime(pattern)
        digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
        if self.fmt.startswith("YY") and len(digits) == len(self.fmt) + 2 and digits.startswith("20"):
            digits = digits[2:]  # "2017-06-05 …" as decode() renders it
        if len(digits) != len(self.fmt):
            raise self._bad_value(value)
        return digits

    def _bad_value(self, value: Any) -> EncodeError:
        return EncodeError("bad_value", _("%(name)s: %(value)r does not fit the format %(fmt)s.")
                           % {"name": self.name_en, "value": value, "fmt": self.fmt})


@dataclass(frozen=True)
class Value:
    """A decoded value with the names and unit of its field (and its register code, where it has one)."""

    name: str
    name_en: str
    value: ValueType
    unit: str = ""
    register: str | None = None

    def to_json(self) -> dict[str, str]:
        """Value as a string so that Decimals keep their exact digits in JSON."""
        out = {"name": self.name, "name_en": self.name_en}
        if self.register:
            out["register"] = self.register
        out["value"] = format(self.value, "f") if isinstance(self.value, Decimal) else self.value
        out["unit"] = self.unit
        return out


@dataclass(frozen=True)
class DataItem:
    """What a data identifier means and how its reply data is laid out (§5.2).

    ``fields`` are in wire order.  ``group`` is 0 for a fixed layout; for a block whose length
    depends on the meter (energy blocks carry the total plus however many tariffs the meter has,
    T8/T9) it is the number of fields per repetition, and a reply may carry any whole number of
    groups up to ``len(fields)``.
    """

    di: str
    name: str
    name_en: str
    fields: tuple[Field, ...]
    group: int = 0

    def decode(self, payload: bytes) -> tuple[Value, ...]:
        """The data after the DI → one :class:`Value` per field present."""
        values: list[Value] = []
        pos = 0
        for field in self.fields:
            if self.group and pos == len(payload) and values and len(values) % self.group == 0:
                break
            chunk = payload[pos:pos + field.size]
            if len(chunk) < field.size:
                raise self._bad_length(payload)
            values.append(Value(field.name, field.name_en, field.decode(chunk), field.unit, field.register))
            pos += field.size
        if pos != len(payload):
            raise self._bad_length(payload)
        return tuple(values)

    def encode(self, values: Sequence[Any]) -> bytes:
        """Values in field order (a prefix of whole groups for blocks) → the data after the DI."""
        raw_values = [v.value if isinstance(v, Value) else v for v in values]
        count = len(raw_values)
        fits = (0 < count <= len(self.fields) and count % self.group == 0) if self.group else count == len(self.fields)
        if not fits:
            raise EncodeError("bad_value", _("%(di)s takes %(expected)s values; got %(count)s.")
                              % {"di": self.di, "expected": self._expected_count(), "count": count})
        return b"".join(field.encode(value) for field, value in zip(self.fields, raw_values))

    def _expected_count(self) -> str:
        if self.group:
            return f"{self.group}..{len(self.fields)} (×{self.group})"
        return str(len(self.fields))

    def _bad_length(self, payload: bytes) -> FrameError:
        return FrameError("bad_data", _("The data of %(di)s (%(name)s) has %(length)s bytes, which does not match "
                                        "its format.") % {"di": self.di, "name": self.name_en, "length": len(payload)})


# --------------------------------------------------------------------------- the data-identifier table

#: every data identifier the codec can decode, DI string → DataItem (§5.2)
DATA_ITEMS: dict[str, DataItem] = {}

_TARIFFS = range(0x00, 0x40)  # 00 total, 01..3F tariff n (§5.2)
_SETTLEMENT_DATES = range(0x00, 0x0D)  # 00 current, 01..0C 上1..上12 结算日
_DAILY_FREEZES = range(0x01, 0x3F)  # 上1..上62 次日冻结

#: DI2 of energy → (Chinese, English, unit, signed, register codes by tariff).  Combined
#: energies are differences of other registers and so carry a sign (§5.2 for 组合有功;
#: the same layout for 组合无功 [U]).
_ENERGY_KINDS: dict[int, tuple[str, str, str, bool, dict[int, str]]] = {
    0x00: ("组合有功", "combined active", "kWh", True, {}),
    0x01: ("正向有功", "forward active", "kWh", False, FORWARD_REGISTERS),
    0x02: ("反向有功", "reverse active", "kWh", False, {0: "reverse"}),
    0x03: ("组合无功1", "combined reactive 1", "kvarh", True, {0: "reactive"}),
    0x04: ("组合无功2", "combined reactive 2", "kvarh", True, {}),
    0x05: ("第一象限无功", "quadrant I reactive", "kvarh", False, {}),
    0x06: ("第二象限无功", "quadrant II reactive", "kvarh", False, {}),
    0x07: ("第三象限无功", "quadrant III reactive", "kvarh", False, {}),
    0x08: ("第四象限无功", "quadrant IV reactive", "kvarh", False, {}),
}
#: DI2 of maximum demand → (Chinese, English, register code of the total)
_DEMAND_KINDS: dict[int, tuple[str, str, str | None]] = {
    0x01: ("正向有功", "forward active", "demand"),
    0x02: ("反向有功", "reverse active", None),
}


def _settlement(date_no: int) -> tuple[str, str]:
    """Name prefix/suffix for DI0 = settlement date (00 current, n = the n-th last settlement date)."""
    return (f"上{date_no}结算日", f", settlement date -{date_no}") if date_no else ("", "")


def _tariff(tariff: int) -> tuple[str, str]:
    return ("总", "total") if tariff == 0 else (f"费率{tariff}", f"tariff {tariff}")


def _add(di: str, name: str, name_en: str, fields: Iterable[Field], group: int = 0) -> None:
    DATA_ITEMS[di] = DataItem(di, name, name_en, tuple(fields), group)


@lru_cache(maxsize=None)
def _energy_fields(kind: int, date_no: int) -> tuple[Field, ...]:
    """Total and tariffs 1..63 of one energy type at one settlement date: XXXXXX.XX, 4 bytes.

    Cached: the daily-freeze blocks share the current-energy fields.
    """
    zh, en, unit, signed, registers = _ENERGY_KINDS[kind]
    before, after = _settlement(date_no)
    return tuple(Field(f"{before}{zh}{_tariff(t)[0]}电能", f"{en} energy, {_tariff(t)[1]}{after}", "XXXXXX.XX",
                       unit, signed, registers.get(t)) for t in _TARIFFS)


def _add_energy() -> None:
    """00 DI2 DI1 DI0: DI2 energy type, DI1 tariff (FF block), DI0 settlement date (§5.2)."""
    for kind, (zh, en, _unit, _signed, _registers) in _ENERGY_KINDS.items():
        for date_no in _SETTLEMENT_DATES:
            fields = _energy_fields(kind, date_no)
            before, after = _settlement(date_no)
            for tariff, field in zip(_TARIFFS, fields):
                _add(f"00{kind:02X}{tariff:02X}{date_no:02X}", field.name, field.name_en, [field])
            _add(f"00{kind:02X}FF{date_no:02X}", f"{before}{zh}电能数据块", f"{en} energy block{after}", fields, 1)


def _add_demand() -> None:
    """01 DI2 DI1 DI0: maximum demand XX.XXXX kW (3 B) then its time YYMMDDhhmm (5 B) (§5.2)."""
    for kind, (zh, en, register) in _DEMAND_KINDS.items():
        for date_no in _SETTLEMENT_DATES:
            before, after = _settlement(date_no)
            block: list[Field] = []
            for tariff in _TARIFFS:
                t_zh, t_en = _tariff(tariff)
                pair = [
                    Field(f"{before}{zh}{t_zh}最大需量", f"{en} maximum demand, {t_en}{after}", "XX.XXXX", "kW",
                          register=register if tariff == 0 else None),
                    Field(f"{before}{zh}{t_zh}最大需量发生时间", f"time of {en} maximum demand, {t_en}{after}",
                          "YYMMDDhhmm"),
                ]
                _add(f"01{kind:02X}{tariff:02X}{date_no:02X}", pair[0].name, pair[0].name_en, pair)
                block += pair
            _add(f"01{kind:02X}FF{date_no:02X}", f"{before}{zh}最大需量数据块", f"{en} maximum demand block{after}",
                 block, 2)


#: instantaneous quantities 02 DI2 DI1 00 (§5.2): DI2 → (Chinese, English, format, unit, signed, DI1 members)
_PHASES = {0x01: ("A相", "phase A"), 0x02: ("B相", "phase B"), 0x03: ("C相", "phase C")}
_TOTAL_AND_PHASES = {0x00: ("总", "total"), **_PHASES}
_INSTANT: dict[int, tuple[str, str, str, str, bool, dict[int, tuple[str, str]]]] = {
    0x01: ("电压", "voltage", "XXX.X", "V", False, _PHASES),
    0x02: ("电流", "current", "XXX.XXX", "A", True, _PHASES),
    0x03: ("有功功率", "active power", "XX.XXXX", "kW", True, _TOTAL_AND_PHASES),
    0x04: ("无功功率", "reactive power", "XX.XXXX", "kvar", True, _TOTAL_AND_PHASES),
    0x05: ("视在功率", "apparent power", "XX.XXXX", "kVA", True, _TOTAL_AND_PHASES),
    0x06: ("功率因数", "power factor", "X.XXX", "", True, _TOTAL_AND_PHASES),
}


def _add_instantaneous() -> None:
    for kind, (zh, en, fmt, unit, signed, members) in _INSTANT.items():
        fields = [Field(f"{m_zh}{zh}", f"{m_en} {en}", fmt, unit, signed) for m_zh, m_en in members.values()]
        for member, field in zip(members, fields):
            _add(f"02{kind:02X}{member:02X}00", field.name, field.name_en, [field])
        _add(f"02{kind:02X}FF00", f"{zh}数据块", f"{en} block", fields)
    _add("02800002", "电网频率", "grid frequency", [Field("电网频率", "grid frequency", "XX.XX", "Hz")])


def _add_events_and_parameters() -> None:
    for di, zh, en in (("03300D00", "开表盖总次数", "meter cover openings, count"),
                       ("03300E00", "开端钮盒总次数", "terminal cover openings, count"),
                       ("03110000", "掉电总次数", "power failures, count")):
        _add(di, zh, en, [Field(zh, en, "XXXXXX")])
    # YYMMDDWW travels WW DD MM YY: the weekday (0 = Sunday) is the first field on the wire.
    _add("04000101", "日期及星期", "date and weekday",
         [Field("星期", "weekday", "XX"), Field("日期", "date", "YYMMDD")])
    _add("04000102", "时间", "time", [Field("时间", "time", "hhmmss")])
    _add("04000401", "通信地址", "communication address", [Field("通信地址", "communication address", "N" * 12)])
    _add("04000402", "表号", "meter number", [Field("表号", "meter number", "N" * 12)])
    for word in range(1, 8):
        zh, en = f"电表运行状态字{word}", f"meter status word {word}"
        _add(f"040005{word:02X}", zh, en, [Field(zh, en, "HHHH")])


def _add_daily_freezes() -> None:
    """05 06 DI1 DI0: the n-th last daily freeze (DI0 = n): its time, forward and reverse active energy (§5.2)."""
    for nth in _DAILY_FREEZES:
        zh_time, en_time = f"上{nth}次日冻结时间", f"daily freeze time, -{nth}"
        _add(f"050600{nth:02X}", zh_time, en_time, [Field(zh_time, en_time, "YYMMDDhhmm")])
        for kind, code in ((0x01, "01"), (0x02, "02")):
            zh, en = _ENERGY_KINDS[kind][:2]
            _add(f"0506{code}{nth:02X}", f"上{nth}次日冻结{zh}电能数据", f"daily frozen {en} energy, -{nth}",
                 _energy_fields(kind, 0), 1)


_add_energy()
_add_demand()
_add_instantaneous()
_add_events_and_parameters()
_add_daily_freezes()

#: broadcast time sync data: ss mm hh DD MM YY, seconds first (§5.1, T10)
TIME_SYNC_FIELD = Field("校时时间", "time set", "YYMMDDhhmmss")
ADDRESS_FIELD = Field("通信地址", "communication address", "N" * 12)


def lookup(di: str | int) -> DataItem | None:
    """The table entry for ``di``, or None when the codec does not know it."""
    return DATA_ITEMS.get(normalize_di(di))


# --------------------------------------------------------------------------- frames


@dataclass(frozen=True)
class Control:
    """The control byte C: D7 direction, D6 abnormal reply, D5 follow-up frame, D4–D0 function (§5.1)."""

    code: int

    @property
    def is_reply(self) -> bool:
        return bool(self.code & 0x80)

    @property
    def direction(self) -> str:
        return "reply" if self.is_reply else "request"

    @property
    def abnormal(self) -> bool:
        return bool(self.code & 0x40)

    @property
    def follow(self) -> bool:
        return bool(self.code & 0x20)

    @property
    def function(self) -> int:
        return self.code & 0x1F

    @property
    def function_name(self) -> str:
        return FUNCTIONS.get(self.function, "unknown")

    def to_json(self) -> dict[str, Any]:
        return {"code": f"{self.code:02X}", "direction": self.direction, "abnormal": self.abnormal,
                "follow": self.follow, "function": self.function_name}


@dataclass(frozen=True)
class ErrorReply:
    """The ERR byte of an abnormal reply (§5.1), e.g. T6: 03 = other + no requested data."""

    code: int

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(name for bit, name in ERROR_FLAGS if self.code & bit)

    def to_json(self) -> dict[str, Any]:
        return {"code": f"{self.code:02X}", "flags": list(self.flags)}


def error_code(flags: Iterable[str]) -> int:
    """Flag names (``"no_data"`` …) → the ERR byte."""
    bits = dict((name, bit) for bit, name in ERROR_FLAGS)
    code = 0
    for name in flags:
        if name not in bits:
            raise EncodeError("bad_value", _("Unknown error flag %(flag)r.") % {"flag": name})
        code |= bits[name]
    return code


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    ``data`` is the data field with 33H removed; ``raw`` the frame bytes from the first 68 to 16.
    ``di`` is set for read/write data frames, ``values`` for normal read replies of a known DI,
    for a read-address reply and for a time sync; ``error`` for abnormal replies.
    """

    address: str
    control: Control
    data: bytes
    raw: bytes
    di: str | None = None
    item: DataItem | None = None
    values: tuple[Value, ...] = ()
    error: ErrorReply | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description, Decimals as strings (``powercis dlt645 decode`` prints it)."""
        return {
            "address": self.address,
            "control": self.control.to_json(),
            "di": self.di,
            "name": self.item.name if self.item else None,
            "name_en": self.item.name_en if self.item else None,
            "values": [value.to_json() for value in self.values],
            "error": self.error.to_json() if self.error else None,
            "data": to_hex(self.data),
        }


def _strip_preamble(raw: bytes) -> bytes:
    index = 0
    while index < len(raw) and raw[index] == PREAMBLE_BYTE:
        index += 1
    return raw[index:]


def checksum(body: bytes) -> int:
    """CS: the sum of every byte from the first 68 to the end of DATA, modulo 256 (§5.1)."""
    return sum(body) & 0xFF


def decode(data: bytes, *, strict: bool = True) -> Frame:
    """Exactly one frame (with or without its FE preamble) → :class:`Frame`; :class:`FrameError` otherwise.

    ``strict=False`` keeps a read reply whose DI is not in :data:`DATA_ITEMS` (``values`` empty,
    ``data`` kept) instead of refusing it with ``unknown_di``.
    """
    raw = _strip_preamble(bytes(data))
    if len(raw) < MIN_FRAME_LENGTH:
        raise FrameError("too_short", _("A frame has at least 12 bytes; got %(count)s.") % {"count": len(raw)})
    if raw[0] != START:
        raise FrameError("no_start", _("A frame starts with 68; found %(byte)02X.") % {"byte": raw[0]})
    if raw[7] != START:
        raise FrameError("no_second_start", _("The address must be followed by 68; found %(byte)02X.")
                         % {"byte": raw[7]})
    length = raw[9]
    if len(raw) != MIN_FRAME_LENGTH + length:
        raise FrameError("bad_length", _("L says %(length)s data bytes, so the frame has %(expected)s bytes; "
                                         "got %(count)s.")
                         % {"length": length, "expected": MIN_FRAME_LENGTH + length, "count": len(raw)})
    expected = checksum(raw[:10 + length])
    if raw[-2] != expected:
        raise FrameError("bad_checksum", _("Bad checksum: expected CS %(expected)02X, found %(found)02X.")
                         % {"expected": expected, "found": raw[-2]})
    if raw[-1] != END:
        raise FrameError("no_end", _("A frame ends with 16; found %(byte)02X.") % {"byte": raw[-1]})
    payload = bytes((byte - OFFSET) & 0xFF for byte in raw[10:10 + length])
    return _interpret(address_from_wire(raw[1:7]), Control(raw[8]), payload, raw, strict)


def _interpret(address: str, control: Control, payload: bytes, raw: bytes, strict: bool) -> Frame:
    """Give the data field its meaning from the control code."""
    frame = Frame(address, control, payload, raw)
    if control.is_reply and control.abnormal:
        if len(payload) < 1:
            raise FrameError("bad_data", _("An abnormal reply carries an error byte; this one has no data."))
        return replace(frame, error=ErrorReply(payload[0]))
    function = control.function
    if function in (READ_DATA, READ_FOLLOW_UP, WRITE_DATA):
        if len(payload) < 4:
            raise FrameError("bad_data", _("A %(function)s frame starts with a 4-byte data identifier; it has "
                                           "%(count)s bytes.") % {"function": control.function_name,
                                                                  "count": len(payload)})
        frame = replace(frame, di=di_from_wire(payload[:4]))
        if function == READ_DATA and control.is_reply and not control.follow:
            return _read_reply_values(frame, payload[4:], strict)
        return frame
    if function == READ_ADDRESS and control.is_reply:
        return replace(frame, values=_fixed_values(ADDRESS_FIELD, payload))
    if function == BROADCAST_TIME_SYNC and not control.is_reply:
        return replace(frame, values=_fixed_values(TIME_SYNC_FIELD, payload))
    return frame


def _read_reply_values(frame: Frame, payload: bytes, strict: bool) -> Frame:
    item = DATA_ITEMS.get(frame.di or "")
    if item is None:
        if strict:
            raise FrameError("unknown_di", _("The data identifier %(di)s is not in the codec's table.")
                             % {"di": frame.di})
        return frame
    return replace(frame, item=item, values=item.decode(payload))


def _fixed_values(field: Field, payload: bytes) -> tuple[Value, ...]:
    if len(payload) != field.size:
        raise FrameError("bad_data", _("%(name)s takes %(size)s bytes; got %(count)s.")
                         % {"name": field.name_en, "size": field.size, "count": len(payload)})
    return (Value(field.name, field.name_en, field.decode(payload), field.unit),)


# --------------------------------------------------------------------------- streams


def split_frame(buffer: bytes) -> tuple[bytes | None, bytes]:
    """Cut the first complete frame candidate out of a byte stream → (frame bytes or None, the bytes after it).

    Noise and FE preambles before a ``68 … 68`` header are dropped.  An incomplete frame is left
    in the remainder to be completed by the next read.  The candidate is not validated: pass it
    to :func:`decode`.
    """
    buffer = bytes(buffer)
    index = 0
    while True:
        index = buffer.find(START, index)
        if index < 0:
            return None, b""
        if len(buffer) - index < 10:
            return None, buffer[index:]
        if buffer[index + 7] != START:
            index += 1
            continue
        end = index + MIN_FRAME_LENGTH + buffer[index + 9]
        if len(buffer) < end:
            return None, buffer[index:]
        return buffer[index:end], buffer[end:]


def find_frame(buffer: bytes, *, strict: bool = True) -> tuple[Frame | None, bytes]:
    """The first frame in a byte stream → (decoded frame or None if incomplete, the bytes after it).

    A complete but invalid frame raises :class:`FrameError` whose ``remaining`` holds the bytes
    after it, so the caller can report it and go on with the rest of the stream.
    """
    candidate, remaining = split_frame(buffer)
    if candidate is None:
        return None, remaining
    try:
        return decode(candidate, strict=strict), remaining
    except FrameError as error:
        error.remaining = remaining
        raise


# --------------------------------------------------------------------------- encoding


def encode_frame(address: str, control: int, data: bytes = b"", *, preamble: bool = False) -> bytes:
    """Build a frame: ``data`` is given without the 33H offset, which this adds (§5.1)."""
    if not 0 <= control <= 0xFF:
        raise EncodeError("bad_control", _("A control code is one byte; got %(control)r.") % {"control": control})
    if len(data) > MAX_DATA_LENGTH:
        raise EncodeError("too_long", _("A frame carries at most 255 data bytes; got %(count)s.")
                          % {"count": len(data)})
    body = bytes([START, *address_to_wire(address), START, control, len(data)])
    body += bytes((byte + OFFSET) & 0xFF for byte in data)
    return (PREAMBLE if preamble else b"") + body + bytes([checksum(body), END])


def encode_read(address: str, di: str | int, *, preamble: bool = True) -> bytes:
    """Read request C=11 for one DI (T3, T4, T14); with the FE×4 wake-up unless ``preamble=False``."""
    return encode_frame(address, READ_DATA, di_to_wire(di), preamble=preamble)


def encode_read_address(*, preamble: bool = True) -> bytes:
    """Read the communication address of whoever is on the line: C=13 to AA…AA (T1)."""
    return encode_frame(WILDCARD_ADDRESS, READ_ADDRESS, preamble=preamble)


def encode_time_sync(when: datetime, address: str = BROADCAST_ADDRESS, *, preamble: bool = True) -> bytes:
    """Time sync C=08, data ss mm hh DD MM YY seconds first (§5.1, T10); broadcast unless ``address`` is given.

    Meters do not answer it.
    """
    return encode_frame(address, BROADCAST_TIME_SYNC, TIME_SYNC_FIELD.encode(when), preamble=preamble)


def encode_reply(address: str, di: str | int, values: Sequence[Any], *, follow: bool = False,
                 preamble: bool = False) -> bytes:
    """A meter's normal read reply C=91 (B1 with ``follow``): DI then the values in the DI's format (T5, T8)."""
    item = lookup(di)
    if item is None:
        raise EncodeError("bad_di", _("The data identifier %(di)s is not in the codec's table.")
                          % {"di": normalize_di(di)})
    control = 0x80 | READ_DATA | (0x20 if follow else 0)
    return encode_frame(address, control, di_to_wire(item.di) + item.encode(values), preamble=preamble)


def encode_error_reply(address: str, error: int | Iterable[str], function: int = READ_DATA, *,
                       preamble: bool = False) -> bytes:
    """A meter's abnormal reply (D1 for a read): one ERR byte, given as a number or flag names (T6)."""
    code = error if isinstance(error, int) else error_code(error)
    if not 0 <= code <= 0xFF:
        raise EncodeError("bad_value", _("The error byte must be 00..FF; got %(code)r.") % {"code": code})
    return encode_frame(address, 0xC0 | function, bytes([code]), preamble=preamble)


def encode_read_address_reply(address: str, *, preamble: bool = False) -> bytes:
    """A meter's reply C=93 to a read-address request: its address, low byte first (T2)."""
    return encode_frame(address, 0x80 | READ_ADDRESS, ADDRESS_FIELD.encode(address), preamble=preamble)
