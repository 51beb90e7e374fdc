"""The TCP collector against an in-test serial server that answers with our own codec.

The fake bus misbehaves on cue (late, corrupt, silent, refusing, noisy, closing) to show
that the collector retries what a retry can cure, reports the rest, and keeps one request on
a half-duplex line at a time.
"""

from __future__ import annotations

import asyncio
import socket
import time as clock
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from powercis.reading.collection import dlt645, transport
from powercis.reading.collection.transport import (
    BAD_FRAME,
    ERROR_REPLY,
    NO_CONNECTION,
    OK,
    TIMEOUT,
    CollectionSchedule,
    Reading,
    ScheduleEntry,
    Target,
)

METER = "000000000001"
FAST = {"timeout": 0.3, "retries": 2, "backoff": 0.01}


@dataclass
class Tracker:
    """Counts requests being answered at once, across every bus that shares it."""

    in_flight: int = 0
    most: int = 0

    def enter(self) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1


@dataclass
class FakeBus:
    """A serial server on loopback with meters behind it.

    ``registers[(address, di)]`` are the values a meter answers with (no entry: an error reply
    "no requested data").  ``script[(address, di)]`` lists what happens on successive requests
    for that DI before normal answers resume: "late", "bad_cs", "silent", "refuse", "noise",
    "echo", "other_meter", "split", "close".
    """

    registers: dict[tuple[str, str], list]
    script: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    reply_delay: float = 0.0
    late_by: float = 0.45
    tracker: Tracker = field(default_factory=Tracker)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    connections: int = 0
    connections_total: int = 0
    most_connections: int = 0
    own: Tracker = field(default_factory=Tracker)
    port: int = 0

    async def __aenter__(self) -> FakeBus:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.connections_total += 1
        self.most_connections = max(self.most_connections, self.connections)
        buffer = b""
        try:
            while chunk := await reader.read(512):
                buffer += chunk
                while True:
                    request, buffer = dlt645.find_frame(buffer)
                    if request is None:
                        break
                    self.requests.append((request.address, request.di))
                    if not await self.answer(request, writer):
                        return
        except ConnectionError:
            pass
        finally:
            self.connections -= 1
            writer.close()

    async def answer(self, request: dlt645.Frame, writer: asyncio.StreamWriter) -> bool:
        key = (request.address, request.di)
        steps = self.script.get(key) or []
        step = steps.pop(0) if steps else "answer"
        self.tracker.enter()
        self.own.enter()
        try:
            await asyncio.sleep(self.reply_delay)
            if step == "close":
                writer.close()
                return False
            if step == "silent":
                return True
            if step == "late":
                await asyncio.sleep(self.late_by)
            reply = self.reply(request, step)
            if step == "split":
                writer.write(reply[:7])
                await writer.drain()
                await asyncio.sleep(0.05)
                reply = reply[7:]
            writer.write(reply)
            await writer.drain()
            return True
        finally:
            self.own.leave()
            self.tracker.leave()

    def reply(self, request: dlt645.Frame, step: str) -> bytes:
        values = self.registers.get((request.address, request.di))
        if values is None or step == "refuse":
            flags = ["unauthorised"] if step == "refuse" else ["no_data"]
            return dlt645.encode_error_reply(request.address, flags, preamble=True)
        good = dlt645.encode_reply(request.address, request.di, values, preamble=True)
        if step == "bad_cs":
            return good[:-2] + bytes([(good[-2] + 1) & 0xFF, 0x16])
        if step == "noise":
            return b"\x00\x68\x11\xfe\x16" + good
        if step == "echo":
            return request.raw + good
        if step == "other_meter":
            return dlt645.encode_reply("999999999998", request.di, values) + good
        return good


def run(coroutine):
    return transport.run_sync(coroutine)


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


REGISTERS = {
    (METER, "0001FF00"): ["100.00", "10.00", "20.00", "30.00", "40.00"],
    (METER, "00020000"): ["5.00"],
    (METER, "02010100"): ["220.5"],
    (METER, "00010000"): ["100.00"],
}


def read(bus: FakeBus, dis, address: str = METER, **options):
    return transport.read_meter("127.0.0.1", bus.port, address, dis, **{**FAST, **options})


def test_reads_values_and_register_readings_over_one_connection():
    async def scenario():
        async with FakeBus(dict(REGISTERS)) as bus:
            return bus, await read(bus, ["0001FF00", "00020000", 0x02010100])

    bus, result = run(scenario())
    assert (result.address, result.port, result.ok, result.errors, result.attempts) == (METER, bus.port, True, (), 3)
    assert result.readings == (
        Reading("total", Decimal("100.00"), "kWh", "0001FF00"), Reading("sharp", Decimal("10.00"), "kWh", "0001FF00"),
        Reading("peak", Decimal("20.00"), "kWh", "0001FF00"), Reading("flat", Decimal("30.00"), "kWh", "0001FF00"),
        Reading("valley", Decimal("40.00"), "kWh", "0001FF00"), Reading("reverse", Decimal("5.00"), "kWh", "00020000"),
    )
    assert [(v.name, v.value, v.unit) for v in result.values("02010100")] == [("A相电压", Decimal("220.5"), "V")]
    assert [o.status for o in result.outcomes] == [OK, OK, OK]
    assert bus.connections_total == 1
    assert bus.requests == [(METER, "0001FF00"), (METER, "00020000"), (METER, "02010100")]
    assert result.elapsed > 0


def test_a_late_reply_is_waited_for_by_the_retry():
    async def scenario():
        script = {(METER, "00010000"): ["late"]}
        async with FakeBus(dict(REGISTERS), script) as bus:
            return await read(bus, ["00010000", "00020000"])

    result = run(scenario())
    assert result.ok
    assert [(o.di, o.status, o.attempts) for o in result.outcomes] == [("00010000", OK, 2), ("00020000", OK, 1)]
    assert [r.value for r in result.readings] == [Decimal("100.00"), Decimal("5.00")]


def test_a_bad_checksum_is_retried():
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): ["bad_cs"]}) as bus:
            return bus, await read(bus, ["00010000"])

    bus, result = run(scenario())
    assert (result.ok, result.attempts, result.readings) == (
        True, 2, (Reading("total", Decimal("100.00"), "kWh", "00010000"),))
    assert bus.requests == [(METER, "00010000")] * 2


def test_bad_frames_on_every_attempt_are_reported_with_the_codec_reason():
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): ["bad_cs"] * 3}) as bus:
            return await read(bus, ["00010000"])

    (outcome,) = run(scenario()).outcomes
    assert (outcome.status, outcome.attempts) == (BAD_FRAME, 3)
    assert outcome.reason.startswith("bad_checksum")


def test_an_error_reply_is_final_and_reported_with_its_flags():
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): ["refuse"]}) as bus:
            return bus, await read(bus, ["00030000", "00010000", "00020000"])

    bus, result = run(scenario())
    assert result.ok is False
    statuses = [(o.di, o.status, o.attempts, o.error_flags) for o in result.outcomes]
    assert statuses == [("00030000", ERROR_REPLY, 1, ("no_data",)), ("00010000", ERROR_REPLY, 1, ("unauthorised",)),
                        ("00020000", OK, 1, ())]
    assert [di for di, _reason in result.errors] == ["00030000", "00010000"]
    assert "no_data" in result.errors[0][1] and "unauthorised" in result.errors[1][1]
    assert result.readings == (Reading("reverse", Decimal("5.00"), "kWh", "00020000"),)
    assert len(bus.requests) == 3  # no retry of a refusal


def test_a_silent_meter_times_out_after_the_retries_and_the_next_di_is_still_read():
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): ["silent"] * 3}) as bus:
            started = clock.monotonic()
            return bus, await read(bus, ["00010000", "00020000"]), clock.monotonic() - started

    bus, result, elapsed = run(scenario())
    first, second = result.outcomes
    assert (first.status, first.attempts, first.values) == (TIMEOUT, 3, ())
    assert (second.status, second.attempts) == (OK, 1)
    assert result.errors == (("00010000", first.reason),) and first.reason
    assert result.attempts == 4
    assert elapsed >= 3 * FAST["timeout"]
    assert bus.requests.count((METER, "00010000")) == 3


@pytest.mark.parametrize("step", ["noise", "echo", "other_meter", "split"])
def test_noise_echoes_and_other_meters_replies_are_skipped(step):
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): [step]}) as bus:
            return await read(bus, ["00010000"])

    result = run(scenario())
    assert (result.ok, result.attempts) == (True, 1)
    assert result.readings == (Reading("total", Decimal("100.00"), "kWh", "00010000"),)


def test_a_dropped_connection_is_reopened_for_the_retry():
    async def scenario():
        async with FakeBus(dict(REGISTERS), {(METER, "00010000"): ["close"]}) as bus:
            return bus, await read(bus, ["00010000", "00020000"])

    bus, result = run(scenario())
    assert result.ok and [o.attempts for o in result.outcomes] == [2, 1]
    assert bus.connections_total == 2


def test_an_unreachable_endpoint_is_reported_without_trying_every_di():
    port = closed_port()
    result = run(transport.read_meter("127.0.0.1", port, METER, ["00010000", "00020000"], **FAST))
    assert result.ok is False
    assert [(o.status, o.attempts) for o in result.outcomes] == [(NO_CONNECTION, 3), (NO_CONNECTION, 0)]
    assert result.readings == () and len(result.errors) == 2


def test_a_bad_address_or_di_is_refused_before_connecting():
    with pytest.raises(dlt645.EncodeError) as error:
        run(transport.read_meter("127.0.0.1", closed_port(), "1", ["00010000"]))
    assert error.value.code == "bad_address"
    with pytest.raises(dlt645.EncodeError) as error:
        run(transport.read_meter("127.0.0.1", closed_port(), METER, ["00010000", "bogus"]))
    assert error.value.code == "bad_di"


def test_collect_serialises_each_bus_and_runs_buses_in_parallel():
    second, third = "000000000002", "000000000003"
    registers = {**REGISTERS, (second, "00010000"): ["200.00"], (third, "00010000"): ["300.00"]}
    tracker = Tracker()
    down = closed_port()

    async def scenario():
        async with FakeBus(registers, reply_delay=0.15, tracker=tracker) as bus_a, \
                FakeBus(registers, reply_delay=0.15, tracker=tracker) as bus_b:
            targets = [
                Target("127.0.0.1", bus_a.port, METER, ("00010000", "00020000")),
                Target("127.0.0.1", bus_b.port, third, ("00010000",)),
                Target("127.0.0.1", down, METER, ("00010000",)),
                Target("127.0.0.1", bus_a.port, second, ("00010000",)),
                Target("127.0.0.1", down, second, ("00010000", "00020000")),
            ]
            return bus_a, bus_b, await transport.collect(targets, concurrency=4, **FAST)

    bus_a, bus_b, results = run(scenario())
    assert [(r.address, r.ok) for r in results] == [(METER, True), (third, True), (METER, False), (second, True),
                                                    (second, False)]
    assert [r.value for r in results[0].readings] == [Decimal("100.00"), Decimal("5.00")]
    assert [r.value for r in results[1].readings] == [Decimal("300.00")]
    assert [r.value for r in results[3].readings] == [Decimal("200.00")]
    # half-duplex: one connection and one request at a time on each bus …
    assert (bus_a.most_connections, bus_a.own.most, bus_a.connections_total) == (1, 1, 1)
    assert (bus_b.most_connections, bus_b.own.most) == (1, 1)
    assert bus_a.requests == [(METER, "00010000"), (METER, "00020000"), (second, "00010000")]
    # … while the two buses are answered at the same time
    assert tracker.most == 2
    # the second meter behind the dead endpoint is not tried again
    assert [o.attempts for o in results[2].outcomes] == [3]
    assert [(o.status, o.attempts) for o in results[4].outcomes] == [(NO_CONNECTION, 0)] * 2


def test_collect_limits_how_many_buses_are_read_at_once():
    tracker = Tracker()

    async def scenario():
        buses = [FakeBus(dict(REGISTERS), reply_delay=0.05, tracker=tracker) for _ in range(3)]
        for bus in buses:
            await bus.__aenter__()
        try:
            targets = [Target("127.0.0.1", bus.port, METER, ("00010000",)) for bus in buses]
            return await transport.collect(targets, concurrency=1, **FAST)
        finally:
            for bus in buses:
                await bus.__aexit__()

    results = run(scenario())
    assert [r.ok for r in results] == [True] * 3
    assert tracker.most == 1


# --------------------------------------------------------------------------- schedule

FROZEN = ScheduleEntry("daily-frozen", time(0, 5), "127.0.0.1", 18899, ("05060101",), (METER, "000000000002"))
MORNING = ScheduleEntry("morning-instant", time(8, 0), "127.0.0.1", 18900, ("02010100",), (METER,))
SCHEDULE = CollectionSchedule((FROZEN, MORNING))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute)


def test_entries_never_run_are_due_once_their_time_has_come_today_or_yesterday():
    assert SCHEDULE.due(at(1, 0, 4)) == [FROZEN, MORNING]  # both last fell due yesterday
    assert SCHEDULE.due(at(1, 0, 4), {"daily-frozen": at(1, 0, 6) - timedelta(days=1),
                                      "morning-instant": at(1, 8, 1) - timedelta(days=1)}) == []


def test_an_entry_is_due_after_its_time_until_it_has_run():
    last = {"daily-frozen": at(1, 0, 5), "morning-instant": at(1, 8, 0)}
    assert SCHEDULE.due(at(1, 7, 59), last) == []
    assert SCHEDULE.due(at(2, 0, 5), last) == [FROZEN]
    assert SCHEDULE.due(at(2, 9, 0), last) == [FROZEN, MORNING]
    assert SCHEDULE.due(at(2, 9, 0), {**last, "daily-frozen": at(2, 0, 6)}) == [MORNING]


def test_days_missed_are_caught_up_once():
    last = {"daily-frozen": at(1, 0, 5), "morning-instant": at(1, 8, 0)}
    assert SCHEDULE.due(at(5, 12, 0), last) == [FROZEN, MORNING]
    assert transport.due_entries(SCHEDULE.entries, at(5, 12, 0), last) == [FROZEN, MORNING]


def test_next_run_and_time_zones():
    assert SCHEDULE.next_run(at(1, 0, 5)) == at(1, 8, 0)
    assert SCHEDULE.next_run(at(1, 9, 0)) == at(2, 0, 5)
    assert CollectionSchedule().next_run(at(1, 9, 0)) is None
    shanghai = timezone(timedelta(hours=8))
    now = datetime(2024, 5, 1, 0, 10, tzinfo=shanghai)
    assert FROZEN.latest_occurrence(now) == datetime(2024, 5, 1, 0, 5, tzinfo=shanghai)


def test_entry_targets_one_per_meter():
    assert FROZEN.targets() == [Target("127.0.0.1", 18899, METER, ("05060101",)),
                                Target("127.0.0.1", 18899, "000000000002", ("05060101",))]


def test_collect_checks_every_target_before_sending_anything():
    async def scenario():
        async with FakeBus(dict(REGISTERS)) as bus:
            targets = [Target("127.0.0.1", bus.port, METER, ("00010000",)),
                       Target("127.0.0.1", bus.port, METER, ("0001",))]
            with pytest.raises(dlt645.EncodeError) as error:
                await transport.collect(targets, **FAST)
            return bus, error.value

    bus, error = run(scenario())
    assert error.code == "bad_di"
    assert bus.requests == [] and bus.connections_total == 0
