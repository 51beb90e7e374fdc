"""Read DL/T 645-2007 meters over TCP: a serial server or a concentrator's pass-through port.

One TCP endpoint usually fronts an RS-485 bus, which is half-duplex: one request may be on the
line at a time and every meter behind the endpoint waits its turn.  :func:`collect` therefore
reads meters behind the same host:port one after another over one connection, and different
endpoints in parallel.  Replies are cut from the byte stream with the codec's stream parser
(FE preambles and line noise skipped, §5.1), matched to the request by address and DI, and a
timeout or a broken frame is retried with backoff.

Nothing here touches the database: results are plain dataclasses that the reading services
store as register reads.  :class:`CollectionSchedule` says which scheduled reads are due.
"""

from __future__ import annotations

import asyncio
import time as clock
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from . import dlt645
from .dlt645 import FrameError, Value, _

#: how a DI read ended
OK = "ok"
ERROR_REPLY = "error_reply"  # the meter answered with an abnormal reply (ERR flags)
TIMEOUT = "timeout"  # no matching complete frame within the timeout, on every attempt
BAD_FRAME = "bad_frame"  # the last attempt got a frame the codec refused (checksum, format …)
NO_CONNECTION = "no_connection"  # the endpoint could not be reached or closed the connection

#: codec refusals that a retry cannot cure: the same meter gives the same answer again
_PERMANENT_FRAME_ERRORS = {"unknown_di", "follow_up"}

#: bytes asked of the socket per read: a DL/T 645 frame is at most 4 + 12 + 255 bytes
_CHUNK = 512


class Reading(NamedTuple):
    """One register value for the register-read store: (register code, value, unit, DI it came from)."""

    register: str
    value: Decimal
    unit: str
    di: str


@dataclass(frozen=True)
class DiOutcome:
    """How reading one DI went: the values, or why there are none, and how many requests it took."""

    di: str
    status: str
    attempts: int
    values: tuple[Value, ...] = ()
    error_flags: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class MeterResult:
    """Everything read from one meter in one visit.

    ``readings`` holds the values that have a register code (what bills use); every decoded
    value, with or without one (voltages, times), is in ``outcomes``.  ``ok`` means every DI
    was answered with a normal reply.
    """

    address: str
    host: str
    port: int
    ok: bool
    readings: tuple[Reading, ...]
    errors: tuple[tuple[str, str], ...]
    attempts: int
    elapsed: float
    outcomes: tuple[DiOutcome, ...] = ()

    @classmethod
    def from_outcomes(cls, address: str, host: str, port: int, outcomes: Sequence[DiOutcome],
                      elapsed: float) -> MeterResult:
        readings = tuple(Reading(value.register, value.value, value.unit, outcome.di)
                         for outcome in outcomes for value in outcome.values
                         if value.register and isinstance(value.value, Decimal))
        errors = tuple((outcome.di, outcome.reason) for outcome in outcomes if outcome.status != OK)
        return cls(address, host, port, not errors, readings, errors, sum(o.attempts for o in outcomes),
                   elapsed, tuple(outcomes))

    def values(self, di: str | int) -> tuple[Value, ...]:
        """The decoded values of one DI (empty if it was not read successfully)."""
        wanted = dlt645.normalize_di(di)
        return next((outcome.values for outcome in self.outcomes if outcome.di == wanted), ())


@dataclass(frozen=True)
class Target:
    """One meter to read: the endpoint it hangs behind, its address and the DIs wanted."""

    host: str
    port: int
    address: str
    dis: tuple[str, ...]


@dataclass(frozen=True)
class Options:
    """Timing of a read: per-attempt timeout, retries after the first attempt, backoff base, preamble."""

    timeout: float = 3.0
    retries: int = 2
    backoff: float = 0.2
    preamble: bool = True

    def pause_before(self, attempt: int) -> float:
        """Backoff before attempt 2, 3, …: base, 2×base, 4×base, so a busy line gets time to settle."""
        return self.backoff * 2 ** (attempt - 2) if attempt > 1 else 0.0


class _Link:
    """One TCP connection to an endpoint, with the bytes received but not yet parsed."""

    def __init__(self, host: str, port: int, timeout: float):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.buffer = b""

    async def open(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            return
        try:
            self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                              self.timeout)
        except TimeoutError as error:
            raise ConnectionError(_("Connecting to %(host)s:%(port)s timed out.")
                                  % {"host": self.host, "port": self.port}) from error
        self.buffer = b""

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    async def exchange(self, request: bytes, is_answer, timeout: float) -> dlt645.Frame:
        """Send ``request`` and return the first decoded frame that ``is_answer`` accepts.

        Frames that are not the answer (the request echoed by the bus, a late reply to another
        meter) are skipped.  A complete but invalid frame raises :class:`FrameError`; no answer
        within ``timeout`` raises :class:`TimeoutError`.
        """
        assert self.reader is not None and self.writer is not None
        self.buffer = b""  # bytes of an earlier, abandoned exchange would only confuse this one
        self.writer.write(request)
        await self.writer.drain()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            candidate, self.buffer = dlt645.split_frame(self.buffer)
            if candidate is not None:
                frame = dlt645.decode(candidate)
                if is_answer(frame):
                    return frame
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(self.reader.read(_CHUNK), remaining)
            if not chunk:
                raise ConnectionError(_("%(host)s:%(port)s closed the connection.")
                                      % {"host": self.host, "port": self.port})
            self.buffer += chunk


def _answers(address: str, di: str, frame: dlt645.Frame) -> bool:
    """Is ``frame`` the meter's reply to our read of ``di``?  (A wildcard address accepts any meter.)"""
    control = frame.control
    if not control.is_reply or control.function != dlt645.READ_DATA:
        return False
    if "A" not in address and frame.address != address:
        return False
    return frame.error is not None or frame.di == di


def _outcome_of(frame: dlt645.Frame, di: str, attempt: int) -> DiOutcome:
    if frame.error is not None:
        flags = frame.error.flags
        return DiOutcome(di, ERROR_REPLY, attempt, error_flags=flags,
                         reason=_("The meter refused: %(flags)s (ERR %(code)02X).")
                         % {"flags": ", ".join(flags) or "-", "code": frame.error.code})
    if frame.control.follow:
        raise FrameError("follow_up", _("The reply continues in follow-up frames, which are not requested."))
    return DiOutcome(di, OK, attempt, values=frame.values)


async def _read_di(link: _Link, address: str, di: str, options: Options) -> DiOutcome:
    """Read one DI with retries; the last failure is what is reported."""
    request = dlt645.encode_read(address, di, preamble=options.preamble)
    outcome = DiOutcome(di, TIMEOUT, 0)
    for attempt in range(1, options.retries + 2):
        await asyncio.sleep(options.pause_before(attempt))
        try:
            await link.open()
            frame = await link.exchange(request, lambda f: _answers(address, di, f), options.timeout)
            return _outcome_of(frame, di, attempt)
        except TimeoutError:
            outcome = DiOutcome(di, TIMEOUT, attempt, reason=_("No reply within %(seconds)s s (%(attempts)s "
                                                                "attempts).") % {"seconds": options.timeout,
                                                                                  "attempts": attempt})
        except FrameError as error:
            outcome = DiOutcome(di, BAD_FRAME, attempt, reason=f"{error.code}: {error.message}")
            if error.code in _PERMANENT_FRAME_ERRORS:
                break
        except OSError as error:
            await link.close()
            outcome = DiOutcome(di, NO_CONNECTION, attempt, reason=str(error) or type(error).__name__)
    return outcome


async def _read_on(link: _Link, address: str, dis: Sequence[str], options: Options) -> MeterResult:
    """Read every DI of one meter over ``link``; once the endpoint is unreachable, the rest are not tried."""
    started = clock.monotonic()
    outcomes: list[DiOutcome] = []
    for di in dis:
        unreachable = next((o for o in outcomes if o.status == NO_CONNECTION), None)
        if unreachable is not None:
            outcomes.append(DiOutcome(di, NO_CONNECTION, 0, reason=unreachable.reason))
            continue
        outcomes.append(await _read_di(link, address, di, options))
    return MeterResult.from_outcomes(address, link.host, link.port, outcomes, clock.monotonic() - started)


async def read_meter(host: str, port: int, address: str, dis: Iterable[str | int], *, timeout: float = 3.0,
                     retries: int = 2, preamble: bool = True, backoff: float = 0.2) -> MeterResult:
    """Read ``dis`` from meter ``address`` behind ``host:port``, one request per DI over one connection.

    ``timeout`` is per attempt; a DI gets ``retries`` more attempts after a timeout, a broken
    frame or a lost connection, waiting ``backoff``, 2×``backoff``, … in between.  An error
    reply is final (the meter would say the same again).
    """
    target = _checked(Target(host, port, address, tuple(dis)))  # refuses a bad address or DI before connecting
    link = _Link(host, port, timeout)
    try:
        return await _read_on(link, target.address, target.dis, Options(timeout, retries, backoff, preamble))
    finally:
        await link.close()


async def collect(targets: Iterable[Target], *, concurrency: int = 16, timeout: float = 3.0, retries: int = 2,
                  preamble: bool = True, backoff: float = 0.2) -> list[MeterResult]:
    """Read many meters, in the order given: endpoints in parallel (at most ``concurrency`` at once),
    the meters behind one endpoint one after another over a single connection (half-duplex bus).

    If an endpoint cannot be reached for one meter, its other meters are reported unreachable
    without waiting for each of them to time out.  Every address and DI is checked before the
    first byte is sent (:class:`~.dlt645.EncodeError` otherwise), so a bad target cannot stop a
    run half-way.
    """
    targets = [_checked(target) for target in targets]
    options = Options(timeout, retries, backoff, preamble)
    results: list[MeterResult | None] = [None] * len(targets)
    by_endpoint: dict[tuple[str, int], list[int]] = {}
    for index, target in enumerate(targets):
        by_endpoint.setdefault((target.host, target.port), []).append(index)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def visit(host: str, port: int, indexes: list[int]) -> None:
        async with gate:
            link = _Link(host, port, timeout)
            try:
                unreachable: MeterResult | None = None
                for index in indexes:
                    target = targets[index]
                    if unreachable is not None:
                        results[index] = _unreachable(target, unreachable)
                        continue
                    results[index] = await _read_on(link, target.address, target.dis, options)
                    if results[index].outcomes and results[index].outcomes[0].status == NO_CONNECTION:
                        unreachable = results[index]
            finally:
                await link.close()

    await asyncio.gather(*(visit(host, port, indexes) for (host, port), indexes in by_endpoint.items()))
    return [result for result in results if result is not None]


def _checked(target: Target) -> Target:
    """The target with its address and DIs in canonical form; EncodeError if either cannot go on the wire."""
    address = dlt645.address_to_wire(target.address)[::-1].hex().upper()  # wildcard "aa" → "AA"
    return Target(target.host, target.port, address, tuple(dlt645.normalize_di(di) for di in target.dis))


def _unreachable(target: Target, seen: MeterResult) -> MeterResult:
    reason = seen.errors[0][1] if seen.errors else ""
    outcomes = [DiOutcome(di, NO_CONNECTION, 0, reason=reason) for di in target.dis]
    return MeterResult.from_outcomes(target.address, target.host, target.port, outcomes, 0.0)


def run_sync(coroutine):
    """Run a collection coroutine to completion from synchronous code (a service, a command, a test).

    Where the calling thread already runs an event loop (an async server, a test session
    driving a browser), ``asyncio.run`` is refused; the coroutine then runs on a loop of
    its own in a short-lived thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class ScheduleEntry:
    """A daily read: at ``at`` (time of day), read ``dis`` from the meters ``addresses`` behind ``host:port``.

    Daily frozen data (05 06 01 01, §5.2 and §7.3) is typically read shortly after midnight,
    once the meters have frozen it.  ``name`` identifies the entry in ``last_runs``.
    """

    name: str
    at: time
    host: str
    port: int
    dis: tuple[str, ...]
    addresses: tuple[str, ...] = ()

    def latest_occurrence(self, now: datetime) -> datetime:
        """The most recent moment at or before ``now`` when this entry was due."""
        today = datetime.combine(now.date(), self.at, tzinfo=now.tzinfo)
        return today if today <= now else today - timedelta(days=1)

    def targets(self) -> list[Target]:
        return [Target(self.host, self.port, address, tuple(self.dis)) for address in self.addresses]


@dataclass(frozen=True)
class CollectionSchedule:
    """Which scheduled reads are due: pure, so the scheduler (and its tests) decide from data alone."""

    entries: tuple[ScheduleEntry, ...] = field(default_factory=tuple)

    def due(self, now: datetime, last_runs: Mapping[str, datetime] | None = None) -> list[ScheduleEntry]:
        """Entries whose latest time of day has passed since they last ran (or that never ran).

        A scheduler that was down over an entry's time catches it up once, not once per missed day.
        """
        return due_entries(self.entries, now, last_runs)

    def next_run(self, now: datetime) -> datetime | None:
        """The next moment after ``now`` when some entry falls due (None without entries)."""
        upcoming = [entry.latest_occurrence(now) + timedelta(days=1) for entry in self.entries]
        return min(upcoming, default=None)


def due_entries(entries: Iterable[ScheduleEntry], now: datetime,
                last_runs: Mapping[str, datetime] | None = None) -> list[ScheduleEntry]:
    """See :meth:`CollectionSchedule.due`."""
    last_runs = last_runs or {}
    due: list[ScheduleEntry] = []
    for entry in entries:
        last = last_runs.get(entry.name)
        if last is None or last < entry.latest_occurrence(now):
            due.append(entry)
    return due
