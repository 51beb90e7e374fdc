"""The DL/T 645-2007 codec against the public vectors of domain/metering-audit.md §5.3 and its own round trips."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powercis.reading.collection import dlt645
from powercis.reading.collection.dlt645 import FrameError

#: §5.3, as published (hex with spaces)
T = {
    "T1": "68 AA AA AA AA AA AA 68 13 00 DF 16",
    "T2": "68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16",
    "T3": "68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16",
    "T4": "68 12 90 78 56 34 12 68 11 04 33 34 34 35 6B 16",
    "T5": "68 01 00 00 00 00 00 68 91 08 33 33 34 33 AB 89 67 45 17 16",
    "T6": "68 01 00 00 00 00 00 68 D1 01 36 D9 16",
    "T7": "68 01 00 00 00 00 00 68 91 06 33 34 34 35 38 55 C5 16",
    "T8": "68 02 00 00 00 10 20 68 91 18 33 32 34 33 67 5C 33 33 99 3A 33 33 48 39 33 33 B3 37 33 33 A4 43 33 33 5D 16",
    "T9 req": "68 00 36 19 00 00 00 68 11 04 33 32 34 33 00 16",
    "T9 rsp": "68 00 36 19 00 00 00 68 91 18 33 32 34 33 63 69 33 33 89 35 33 33 4C 33 33 33 6B 33 33 33 4A 66 33 33 "
              "E9 16",
    "T10": "68 99 99 99 99 99 99 68 08 06 84 55 43 38 39 4A 4B 16",
    "T10 addressed": "68 11 11 11 11 11 11 68 08 06 58 73 43 38 39 4A 0D 16",
    "T11 req": "68 08 02 02 41 22 00 68 11 04 35 37 33 37 2A 16",
    "T11 rsp": "68 08 02 02 41 22 00 68 91 0A 35 37 33 37 3B 35 35 74 55 33 51 16",
    "T12": "68 37 03 00 92 81 39 68 91 08 33 33 34 33 37 33 33 33 8C 16",
    "T13": "68 00 51 44 18 11 17 68 91 06 35 33 B3 35 36 83 45 16",
    "T14": "68 90 78 56 34 12 00 68 11 04 33 33 33 33 55 16",
    "T15": "68 01 00 44 23 52 00 68 91 06 33 36 34 35 95 55 DD 16",
}

#: §5.3 negative vectors: published frames whose checksum is wrong → the correct CS
NEGATIVE = [
    ("68 37 03 00 92 81 39 68 91 06 33 34 34 35 C7 56 B6 16", "DA", "B6"),
    ("68 16 00 00 00 15 20 68 11 04 35 33 B3 35 85 16", "80", "85"),
    ("68 02 00 00 00 10 20 68 11 04 33 32 34 33 E1 16", "E3", "E1"),
    (T["T8"][:-5] + "5B 16", "5D", "5B"),
]


def frame(name: str) -> bytes:
    return bytes.fromhex(T[name])


def decoded(name: str, **kwargs) -> dlt645.Frame:
    return dlt645.decode(frame(name), **kwargs)


def plain(values) -> list[tuple]:
    return [(v.name_en, v.value, v.unit, v.register) for v in values]


# --------------------------------------------------------------------------- every public vector


def test_t1_read_address_request_to_the_wildcard():
    f = decoded("T1")
    assert f.address == "AAAAAAAAAAAA"
    assert (f.control.code, f.control.direction, f.control.function_name) == (0x13, "request", "read_address")
    assert f.data == b"" and f.di is None and f.values == () and f.error is None


def test_t2_read_address_reply_names_the_meter():
    f = decoded("T2")
    assert f.address == "000000000001"
    assert (f.control.code, f.control.direction, f.control.abnormal) == (0x93, "reply", False)
    assert [(v.name, v.value) for v in f.values] == [("通信地址", "000000000001")]


def test_t3_read_forward_active_total():
    f = decoded("T3")
    assert (f.address, f.di, f.control.function_name, f.control.direction) == (
        "000000000001", "00010000", "read_data", "request")
    assert f.data == bytes.fromhex("00000100") and f.values == ()


def test_t4_read_phase_a_voltage_of_meter_123456789012():
    f = decoded("T4")
    assert (f.address, f.di, f.control.code) == ("123456789012", "02010100", 0x11)


def test_t5_forward_active_total_is_123456_78_kwh():
    f = decoded("T5")
    assert (f.address, f.di, f.control.code, f.control.direction) == ("000000000001", "00010000", 0x91, "reply")
    assert (f.control.abnormal, f.control.follow) == (False, False)
    assert (f.item.name, f.item.name_en) == ("正向有功总电能", "forward active energy, total")
    assert plain(f.values) == [("forward active energy, total", Decimal("123456.78"), "kWh", "total")]
    assert str(f.values[0].value) == "123456.78"


def test_t6_error_reply_other_and_no_data():
    f = decoded("T6")
    assert (f.control.code, f.control.abnormal, f.control.function_name) == (0xD1, True, "read_data")
    assert f.error.code == 0x03
    assert f.error.flags == ("other", "no_data")
    assert f.values == () and f.di is None


def test_t7_phase_a_voltage_is_220_5_v():
    f = decoded("T7")
    assert f.di == "02010100"
    assert [(v.name, v.value, v.unit) for v in f.values] == [("A相电压", Decimal("220.5"), "V")]


def test_t8_block_total_and_four_tariffs_with_register_codes():
    f = decoded("T8")
    assert (f.address, f.di, f.item.name) == ("201000000002", "0001FF00", "正向有功电能数据块")
    assert [(v.register, v.value, v.unit) for v in f.values] == [
        ("total", Decimal("29.34"), "kWh"), ("sharp", Decimal("7.66"), "kWh"), ("peak", Decimal("6.15"), "kWh"),
        ("flat", Decimal("4.80"), "kWh"), ("valley", Decimal("10.71"), "kWh")]
    assert [v.name_en for v in f.values] == ["forward active energy, total"] + [
        f"forward active energy, tariff {n}" for n in range(1, 5)]
    # the TOU-sum tolerance case of §2: the tariffs add up to 0.02 less than the total
    assert f.values[0].value - sum(v.value for v in f.values[1:]) == Decimal("0.02")


def test_t9_request_and_block_reply():
    request = decoded("T9 req")
    assert (request.address, request.di, request.control.code) == ("000000193600", "0001FF00", 0x11)
    f = decoded("T9 rsp")
    assert (f.address, f.di) == ("000000193600", "0001FF00")
    assert [v.value for v in f.values] == [Decimal(x) for x in ("36.30", "2.56", "0.19", "0.38", "33.17")]
    assert sum(v.value for v in f.values[1:]) == f.values[0].value


@pytest.mark.parametrize("name, address, when", [
    ("T10", "999999999999", "2017-06-05 10:22:51"),
    ("T10 addressed", "111111111111", "2017-06-05 10:40:25"),
])
def test_t10_time_sync_seconds_first(name, address, when):
    f = decoded(name)
    assert (f.address, f.control.code, f.control.function_name) == (address, 0x08, "broadcast_time_sync")
    assert [v.value for v in f.values] == [when]
    assert f.data == bytes.fromhex(f"{when[17:19]}{when[14:16]}{when[11:13]}{when[8:10]}{when[5:7]}{when[2:4]}")


def test_t11_meter_number():
    assert (decoded("T11 req").di, decoded("T11 req").address) == ("04000402", "002241020208")
    f = decoded("T11 rsp")
    assert (f.di, f.item.name) == ("04000402", "表号")
    assert [v.value for v in f.values] == ["002241020208"]


def test_t12_small_energy_value():
    f = decoded("T12")
    assert f.address == "398192000337"
    assert [v.value for v in f.values] == [Decimal("0.04")]
    assert f.to_json()["values"][0]["value"] == "0.04"


def test_t13_frequency():
    f = decoded("T13")
    assert (f.address, f.di) == ("171118445100", "02800002")
    assert plain(f.values) == [("grid frequency", Decimal("50.03"), "Hz", None)]


def test_t14_read_combined_active_total():
    f = decoded("T14")
    assert (f.address, f.di, f.control.code) == ("001234567890", "00000000", 0x11)


def test_t15_phase_c_voltage():
    f = decoded("T15")
    assert (f.address, f.di) == ("005223440001", "02010300")
    assert [(v.name, v.value, v.unit) for v in f.values] == [("C相电压", Decimal("226.2"), "V")]


# --------------------------------------------------------------------------- encoding the same bytes


@pytest.mark.parametrize("name, build", [
    ("T1", lambda: dlt645.encode_read_address(preamble=False)),
    ("T3", lambda: dlt645.encode_read("000000000001", "00010000", preamble=False)),
    ("T4", lambda: dlt645.encode_read("123456789012", 0x02010100, preamble=False)),
    ("T9 req", lambda: dlt645.encode_read("000000193600", "0001ff00", preamble=False)),
    ("T11 req", lambda: dlt645.encode_read("002241020208", "04000402", preamble=False)),
    ("T14", lambda: dlt645.encode_read("001234567890", "00000000", preamble=False)),
    ("T10", lambda: dlt645.encode_time_sync(datetime(2017, 6, 5, 10, 22, 51), preamble=False)),
    ("T10 addressed", lambda: dlt645.encode_time_sync(datetime(2017, 6, 5, 10, 40, 25), "111111111111",
                                                      preamble=False)),
    ("T2", lambda: dlt645.encode_read_address_reply("000000000001")),
    ("T5", lambda: dlt645.encode_reply("000000000001", "00010000", [Decimal("123456.78")])),
    ("T6", lambda: dlt645.encode_error_reply("000000000001", ["other", "no_data"])),
    ("T7", lambda: dlt645.encode_reply("000000000001", "02010100", ["220.5"])),
    ("T8", lambda: dlt645.encode_reply("201000000002", "0001FF00", ["29.34", "7.66", "6.15", "4.80", "10.71"])),
    ("T11 rsp", lambda: dlt645.encode_reply("002241020208", "04000402", ["002241020208"])),
    ("T13", lambda: dlt645.encode_reply("171118445100", "02800002", [Decimal("50.03")])),
    ("T15", lambda: dlt645.encode_reply("005223440001", "02010300", [Decimal("226.2")])),
])
def test_encoder_reproduces_the_vector(name, build):
    assert dlt645.to_hex(build()) == T[name]


def test_read_requests_carry_the_wake_up_preamble_by_default():
    assert dlt645.encode_read("000000000001", "00010000") == b"\xfe" * 4 + frame("T3")
    assert dlt645.encode_read_address() == b"\xfe" * 4 + frame("T1")


def test_decoded_values_re_encode_to_the_same_frame():
    for name in ("T5", "T7", "T8", "T9 rsp", "T11 rsp", "T12", "T13", "T15"):
        f = decoded(name)
        assert dlt645.encode_reply(f.address, f.di, f.values) == frame(name), name


# --------------------------------------------------------------------------- rejecting bad frames


@pytest.mark.parametrize("hex_frame, correct, found", NEGATIVE)
def test_negative_vectors_fail_the_checksum(hex_frame, correct, found):
    with pytest.raises(FrameError) as error:
        dlt645.decode(bytes.fromhex(hex_frame))
    assert error.value.code == "bad_checksum"
    assert re.search(rf"\b{correct}\b", error.value.message) and re.search(rf"\b{found}\b", error.value.message)


def with_checksum(body: bytes) -> bytes:
    return body + bytes([dlt645.checksum(body), 0x16])


MALFORMED = [
    ("too_short", b""),
    ("too_short", bytes.fromhex("FEFE 68 01 00 00 00 00 00 68 91")),
    ("no_start", bytes.fromhex("69") + frame("T3")[1:]),
    ("no_second_start", frame("T3")[:7] + b"\x69" + frame("T3")[8:]),
    ("bad_length", frame("T5")[:-3]),  # truncated
    ("bad_length", frame("T3") + b"\x00"),  # bytes after the end
    ("bad_length", frame("T3")[:9] + b"\x05" + frame("T3")[10:]),  # L says 5, 4 follow
    ("bad_checksum", frame("T3")[:-2] + b"\xb4\x16"),
    ("no_end", frame("T3")[:-1] + b"\x17"),
    ("bad_address", with_checksum(bytes.fromhex("68 0A 00 00 00 00 00 68 13 00"))),
    ("bad_bcd", with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 91 08 33 33 34 33 3F 33 33 33"))),
    ("bad_data", with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 91 07 33 33 34 33 33 33 33"))),
    ("bad_data", with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 91 02 33 33"))),
    ("bad_data", with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 D1 00"))),
    ("unknown_di", with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 91 05 32 32 32 32 33"))),
]


@pytest.mark.parametrize("code, raw", MALFORMED, ids=[f"{code}-{i}" for i, (code, _raw) in enumerate(MALFORMED)])
def test_malformed_frames_are_refused_with_their_reason(code, raw):
    with pytest.raises(FrameError) as error:
        dlt645.decode(raw)
    assert error.value.code == code
    assert error.value.message


def test_unknown_di_is_kept_raw_when_not_strict():
    raw = with_checksum(bytes.fromhex("68 01 00 00 00 00 00 68 91 05 32 32 32 32 33"))
    f = dlt645.decode(raw, strict=False)
    assert (f.di, f.item, f.values) == ("FFFFFFFF", None, ())
    assert f.data == bytes.fromhex("FFFFFFFF00")
    assert f.to_json()["data"] == "FF FF FF FF 00"


# --------------------------------------------------------------------------- signed BCD and formats


@pytest.mark.parametrize("di, wire, expected", [
    ("02020100", "00 15 80", Decimal("-1.500")),  # §5.2 current example
    ("02030000", "34 12 85", Decimal("-5.1234")),  # §5.2 power example
    ("02020100", "00 15 00", Decimal("1.500")),
    ("02060000", "00 89", Decimal("-0.900")),  # power factor
    ("00000000", "78 56 34 92", Decimal("-123456.78")),  # combined active energy
    ("02030000", "00 00 80", Decimal("0")),  # a set sign bit on zero is still zero
])
def test_signed_bcd(di, wire, expected):
    data = dlt645.di_to_wire(di) + bytes.fromhex(wire)
    raw = dlt645.encode_frame("000000000001", 0x91, data)
    (value,) = dlt645.decode(raw).values
    assert value.value == expected
    if expected:
        assert str(value.value) == str(expected)
        assert dlt645.encode_reply("000000000001", di, [expected]) == raw


def test_unsigned_fields_refuse_negative_values_and_overflow():
    for di, value in (("00010000", "-1.00"), ("00010000", "1000000.00"), ("02020100", "800.000"),
                      ("00010000", "1.001"), ("02010100", 220.5), ("02010100", "abc")):
        with pytest.raises(dlt645.EncodeError) as error:
            dlt645.encode_reply("000000000001", di, [value])
        assert error.value.code == "bad_value"


def test_table_names_formats_and_registers():
    item = dlt645.lookup("00010001")
    assert (item.name, item.fields[0].fmt, item.fields[0].register) == ("上1结算日正向有功总电能", "XXXXXX.XX", "total")
    assert dlt645.lookup("00010400").fields[0].register == "valley"
    assert dlt645.lookup("00010500").fields[0].register is None
    assert dlt645.lookup("00020000").fields[0].register == "reverse"
    assert dlt645.lookup("00020100").fields[0].register is None
    assert dlt645.lookup("00030000").fields[0].register == "reactive"
    assert dlt645.lookup("00080000").fields[0].unit == "kvarh"
    assert dlt645.lookup("00003F0C").name == "上12结算日组合有功费率63电能"
    assert [f.register for f in dlt645.lookup("01010000").fields] == ["demand", None]
    assert dlt645.lookup("01020000").fields[0].register is None
    assert dlt645.lookup(0x0201FF00).name_en == "voltage block"
    assert len(dlt645.lookup("0203FF00").fields) == 4
    assert dlt645.lookup("00090000") is None and dlt645.lookup("0001FF0D") is None


@pytest.mark.parametrize("di, values, expected", [
    ("0101FF00", ["12.3456", "2405011230", "0.5000", "2405020815"],
     [Decimal("12.3456"), "2024-05-01 12:30", Decimal("0.5000"), "2024-05-02 08:15"]),
    ("04000101", ["3", "240501"], [Decimal("3"), "2024-05-01"]),
    ("04000102", ["235959"], ["23:59:59"]),
    ("04000401", ["000000000001"], ["000000000001"]),
    ("04000501", ["0A04"], ["0A04"]),
    ("03300D00", ["12"], [Decimal("12")]),
    ("0206FF00", ["0.998", "-0.5", "1", "0"], [Decimal("0.998"), Decimal("-0.500"), Decimal("1.000"), Decimal("0")]),
    ("05060001", ["2405010000"], ["2024-05-01 00:00"]),
    ("05060101", ["100.00", "10.00", "20.00", "30.00", "40.00"], [Decimal(x) for x in ("100", "10", "20", "30", "40")]),
])
def test_other_table_entries_round_trip(di, values, expected):
    raw = dlt645.encode_reply("000000000001", di, values)
    f = dlt645.decode(raw)
    assert [v.value for v in f.values] == expected
    if di == "05060101":
        assert [v.register for v in f.values] == ["total", "sharp", "peak", "flat", "valley"]
    if di == "0101FF00":
        assert f.values[0].register == "demand" and f.values[0].unit == "kW"


def test_block_needs_whole_groups():
    with pytest.raises(dlt645.EncodeError):
        dlt645.encode_reply("000000000001", "0101FF00", ["1.0000"])
    with pytest.raises(dlt645.EncodeError):
        dlt645.encode_reply("000000000001", "0201FF00", ["220.0", "221.0"])  # three phases, fixed


# --------------------------------------------------------------------------- addresses, DIs, JSON


def test_addresses_go_low_byte_first():
    assert dlt645.address_to_wire("123456789012") == bytes.fromhex("129078563412")
    assert dlt645.address_to_wire("aaaaaaaaaaaa") == b"\xaa" * 6
    assert dlt645.address_from_wire(bytes.fromhex("01 00 AA AA AA AA")) == "AAAAAAAA0001"
    for bad in ("1", "12345678901", "1234567890123", "12345678901A", "", None):
        with pytest.raises(dlt645.EncodeError) as error:
            dlt645.address_to_wire(bad)
        assert error.value.code == "bad_address"


def test_data_identifiers():
    assert dlt645.normalize_di(0x0001FF00) == "0001FF00"
    assert dlt645.normalize_di("00 01 ff 00") == "0001FF00"
    assert dlt645.di_to_wire("00010000") == bytes.fromhex("00000100")
    for bad in ("0001000", "000100000", "0001000G", -1, 2**32, True):
        with pytest.raises(dlt645.EncodeError) as error:
            dlt645.normalize_di(bad)
        assert error.value.code == "bad_di"


def test_error_flags_cover_every_bit():
    f = dlt645.decode(dlt645.encode_error_reply("000000000001", 0x7F))
    assert f.error.flags == ("other", "no_data", "unauthorised", "baud_unchangeable", "year_zones_exceeded",
                             "day_slots_exceeded", "tariffs_exceeded")
    assert dlt645.decode(dlt645.encode_error_reply("000000000001", ["unauthorised"], 0x14)).control.code == 0xD4
    assert dlt645.error_code(["no_data", "tariffs_exceeded"]) == 0x42


def test_to_json_is_plain_data():
    assert decoded("T5").to_json() == {
        "address": "000000000001",
        "control": {"code": "91", "direction": "reply", "abnormal": False, "follow": False, "function": "read_data"},
        "di": "00010000", "name": "正向有功总电能", "name_en": "forward active energy, total",
        "values": [{"name": "正向有功总电能", "name_en": "forward active energy, total", "register": "total",
                    "value": "123456.78", "unit": "kWh"}],
        "error": None, "data": "00 00 01 00 78 56 34 12",
    }
    assert decoded("T6").to_json()["error"] == {"code": "03", "flags": ["other", "no_data"]}
    assert "register" not in decoded("T7").to_json()["values"][0]


def test_follow_up_flag_is_decoded_and_values_left_to_the_follow_up_frames():
    f = dlt645.decode(dlt645.encode_reply("000000000001", "00010000", ["1.00"], follow=True))
    assert (f.control.code, f.control.follow, f.di, f.values) == (0xB1, True, "00010000", ())


# --------------------------------------------------------------------------- preamble and streams


@pytest.mark.parametrize("preamble", [b"", b"\xfe", b"\xfe" * 4, b"\xfe" * 7])
def test_preamble_is_skipped_and_not_in_the_checksum(preamble):
    f = dlt645.decode(preamble + frame("T5"))
    assert f.values[0].value == Decimal("123456.78")
    assert f.raw == frame("T5")


def test_stream_parser_skips_noise_and_keeps_partial_frames():
    noise = bytes.fromhex("00 68 12 FF 16 FE FE FE FE")
    stream = noise + frame("T5") + b"\xfe\xfe" + frame("T7")[:9]
    first, rest = dlt645.find_frame(stream)
    assert first.values[0].value == Decimal("123456.78")
    second, rest = dlt645.find_frame(rest)
    assert second is None and rest == frame("T7")[:9]
    second, rest = dlt645.find_frame(rest + frame("T7")[9:] + b"\x00")
    assert second.values[0].value == Decimal("220.5") and rest == b"\x00"
    assert dlt645.find_frame(b"\x00\x01\xfe") == (None, b"")


def test_stream_parser_reports_a_bad_frame_and_what_follows_it():
    bad = bytes.fromhex(NEGATIVE[0][0])
    with pytest.raises(FrameError) as error:
        dlt645.find_frame(b"\xfe\xfe" + bad + frame("T5"))
    assert error.value.code == "bad_checksum"
    assert error.value.remaining == frame("T5")
    assert dlt645.find_frame(error.value.remaining)[0].address == "000000000001"


def test_parse_hex_accepts_spaces_and_refuses_odd_or_foreign_digits():
    assert dlt645.parse_hex(" 68 aa\nAA ") == bytes.fromhex("68AAAA")
    assert dlt645.parse_hex("0x6816") == b"\x68\x16"
    for bad in ("6", "68 A", "xy"):
        with pytest.raises(dlt645.EncodeError):
            dlt645.parse_hex(bad)


# --------------------------------------------------------------------------- round trip property

ITEM_DIS = sorted(dlt645.DATA_ITEMS)


def field_value(field: dlt645.Field) -> st.SearchStrategy:
    """Any value the field can carry, in the form decode() gives back (numbers) or its digits (others)."""
    if field.kind == dlt645.NUMBER:
        limit = 8 * 10 ** (field.digits - 1) if field.signed else 10 ** field.digits
        magnitude = st.integers(0, limit - 1).map(lambda n: Decimal(n).scaleb(-field.decimals))
        if field.signed:
            return st.tuples(magnitude, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
        return magnitude
    if field.kind == dlt645.BITMAP:
        return st.text("0123456789ABCDEF", min_size=field.digits, max_size=field.digits)
    return st.text("0123456789", min_size=field.digits, max_size=field.digits)


@st.composite
def reply(draw):
    item = dlt645.DATA_ITEMS[draw(st.sampled_from(ITEM_DIS))]
    fields = item.fields
    if item.group:
        group_size = sum(f.size for f in fields[:item.group])
        groups = draw(st.integers(1, min(len(fields) // item.group, 196 // group_size)))  # read replies ≤ 200 B
        fields = fields[:groups * item.group]
    address = draw(st.text("0123456789", min_size=12, max_size=12))
    return address, item, fields, [draw(field_value(f)) for f in fields]


@settings(max_examples=300, deadline=None)
@given(reply())
def test_any_reply_decodes_to_the_values_encoded(case):
    address, item, fields, values = case
    raw = dlt645.encode_reply(address, item.di, values)
    f = dlt645.decode(b"\xfe" * 4 + raw)
    assert (f.address, f.di, f.item) == (address, item.di, item)
    assert len(f.values) == len(values)
    for field, sent, got in zip(fields, values, f.values):
        if field.kind == dlt645.NUMBER:
            assert got.value == sent
        elif field.kind == dlt645.TIME:
            assert re.sub(r"\D", "", got.value) == ("20" + sent if field.fmt.startswith("YY") else sent)
        else:
            assert got.value == sent.upper()
        assert (got.name, got.unit, got.register) == (field.name, field.unit, field.register)
    assert dlt645.encode_reply(address, item.di, f.values) == raw
