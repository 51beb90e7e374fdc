"""Interoperability with the PyPI ``dlt645`` package (3.2.0): its TCP meter simulator and its codec.

§5.4 and §7.2 of domain/metering-audit.md: our collector reads a simulated meter on loopback, and
our encoder produces the same bytes as ``DLT645Protocol.build_frame`` for the ★ vectors.
Two caveats of that package are applied, not imitated: ``set_address`` takes the wire-order
hex string, and its time sync/freeze byte order is reversed, so it is no reference for those.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import pytest
from dlt645 import Demand, DLT645Protocol, MeterServerService

from powercis.reading.collection import dlt645, transport
from powercis.reading.collection.transport import ERROR_REPLY, OK, Reading

METER = "000000000001"


def wire_order(address: str) -> str:
    """Caveat (1) of §5.4: the simulator wants the address bytes as they go on the wire, as hex."""
    return dlt645.address_to_wire(address).hex()


@pytest.fixture(scope="module")
def simulator():
    """A simulated meter on a free loopback port, in the package's own daemon thread; stopped afterwards.

    One for the module (building its data map takes about a second); each test sets the address it needs.
    """
    service = MeterServerService.new_tcp_server("127.0.0.1", 0, 1.0)
    assert service.server.start(), "the dlt645 simulator did not start"
    yield service
    assert service.server.stop()


def exchange(port: int, request: bytes) -> bytes:
    """One raw request → the simulator's raw reply."""

    async def talk() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            await writer.drain()
            buffer = b""
            while True:
                candidate, rest = dlt645.split_frame(buffer)
                if candidate is not None:
                    return buffer
                buffer += await asyncio.wait_for(reader.read(512), 2.0)
        finally:
            writer.close()
            await writer.wait_closed()

    return transport.run_sync(talk())


def test_collector_reads_the_simulated_meter(simulator):
    assert simulator.set_address(wire_order(METER))
    # The simulator's own API takes floats; the values below are exact in two decimals.
    for di, value in ((0x00010000, 123456.78), (0x00010100, 1.11), (0x00010200, 2.22), (0x00010300, 3.33),
                      (0x00010400, 4.44), (0x00020000, 5.5)):
        assert simulator.set_00(di, value)
    assert simulator.set_02(0x02010100, 220.5)
    assert simulator.set_02(0x02020100, -1.5)
    assert simulator.set_01(0x01010000, Demand(12.3456, datetime(2024, 5, 1, 12, 30)))

    dis = ["00010000", "00010100", "00010200", "00010300", "00010400", "00020000", "02010100", "02020100",
           "01010000", "0001FF00"]
    result = transport.run_sync(transport.read_meter("127.0.0.1", simulator.server.port, METER, dis, timeout=2.0,
                                              retries=1, backoff=0.05))

    assert result.readings == (
        Reading("total", Decimal("123456.78"), "kWh", "00010000"),
        Reading("sharp", Decimal("1.11"), "kWh", "00010100"),
        Reading("peak", Decimal("2.22"), "kWh", "00010200"),
        Reading("flat", Decimal("3.33"), "kWh", "00010300"),
        Reading("valley", Decimal("4.44"), "kWh", "00010400"),
        Reading("reverse", Decimal("5.50"), "kWh", "00020000"),
        Reading("demand", Decimal("12.3456"), "kW", "01010000"),
    )
    assert [v.value for v in result.values("02010100")] == [Decimal("220.5")]
    assert [v.value for v in result.values("02020100")] == [Decimal("-1.500")]  # signed BCD both ways
    assert [v.value for v in result.values("01010000")] == [Decimal("12.3456"), "2024-05-01 12:30"]
    # the simulator has no energy blocks: it answers "no requested data", which we report, not retry
    block = result.outcomes[-1]
    assert (block.di, block.status, block.error_flags, block.attempts) == ("0001FF00", ERROR_REPLY, ("no_data",), 1)
    assert [o.status for o in result.outcomes[:-1]] == [OK] * 9
    assert result.ok is False and result.attempts == 10


def test_simulator_replies_match_the_published_vectors(simulator):
    assert simulator.set_address(wire_order(METER))
    assert simulator.set_00(0x00010000, 123456.78)
    assert simulator.set_02(0x02010100, 220.5)
    port = simulator.server.port
    # T2, T5 and T7 of §5.3, after the simulator's FE×4
    assert dlt645.to_hex(exchange(port, dlt645.encode_read_address())) == (
        "FE FE FE FE 68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16")
    assert dlt645.to_hex(exchange(port, dlt645.encode_read(METER, "00010000"))) == (
        "FE FE FE FE 68 01 00 00 00 00 00 68 91 08 33 33 34 33 AB 89 67 45 17 16")
    assert dlt645.to_hex(exchange(port, dlt645.encode_read(METER, "02010100"))) == (
        "FE FE FE FE 68 01 00 00 00 00 00 68 91 06 33 34 34 35 38 55 C5 16")


def test_set_address_takes_wire_order(simulator):
    """Caveat (1): passing the nameplate number puts it on the wire reversed, so the meter reports another number."""
    assert simulator.set_address("000000000001")
    reply = dlt645.decode(exchange(simulator.server.port, dlt645.encode_read_address()))
    assert reply.values[0].value == "010000000000"


@pytest.mark.parametrize("address, control, data", [
    ("AAAAAAAAAAAA", 0x13, b""),  # T1
    ("000000000001", 0x93, bytes.fromhex("010000000000")),  # T2
    ("000000000001", 0x11, bytes.fromhex("00000100")),  # T3
    ("123456789012", 0x11, bytes.fromhex("00010102")),  # T4
    ("000000000001", 0x91, bytes.fromhex("0000010078563412")),  # T5
    ("000000000001", 0xD1, b"\x03"),  # T6
    ("999999999999", 0x08, bytes.fromhex("512210050617")),  # T10, data given in the field order ss…YY
])
def test_our_frames_equal_build_frame(address, control, data):
    theirs = bytes(DLT645Protocol.build_frame(dlt645.address_to_wire(address), control, data, preamble_count=0))
    assert dlt645.encode_frame(address, control, data) == theirs
    assert bytes(DLT645Protocol.build_frame(dlt645.address_to_wire(address), control, data)) == (
        dlt645.encode_frame(address, control, data, preamble=True))


def test_high_level_encoders_equal_build_frame():
    cases = [
        (dlt645.encode_read_address(preamble=False), "AAAAAAAAAAAA", 0x13, b""),
        (dlt645.encode_read("123456789012", "02010100", preamble=False), "123456789012", 0x11,
         dlt645.di_to_wire("02010100")),
        (dlt645.encode_time_sync(datetime(2017, 6, 5, 10, 22, 51), preamble=False), "999999999999", 0x08,
         bytes.fromhex("512210050617")),
        (dlt645.encode_reply(METER, "00010000", ["123456.78"]), METER, 0x91, bytes.fromhex("0000010078563412")),
    ]
    for ours, address, control, data in cases:
        assert ours == bytes(DLT645Protocol.build_frame(dlt645.address_to_wire(address), control, data, 0))
    # and their decoder reads our read request back as we meant it
    rest, frame = DLT645Protocol.deserialize_with_remaining(b"\x00\x68" + dlt645.encode_read(METER, "00010000"))
    assert (bytes(frame.addr), frame.ctrl_code, bytes(frame.data), rest) == (
        dlt645.address_to_wire(METER), 0x11, bytes.fromhex("00000100"), b"")
