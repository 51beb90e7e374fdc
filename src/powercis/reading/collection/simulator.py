"""A DL/T 645-2007 meter bus simulator over TCP: many meters behind one serial-server port.

It answers read requests (C = 11) the way meters on an RS-485 bus behind a serial
server do: a reply (91) with the DI's values from the meter's registers, an error reply
(D1, "no requested data") for a DI the meter does not have, and silence for an address
nobody on the bus has.  The demo and the tests use it to run the real collector and the
real codec end to end without hardware; values come from a mapping the caller keeps up
to date (register code → Decimal), so the simulated meters advance with the data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal

from . import dlt645

#: register values a meter exposes: the DI → which registers make up its values, in order
REGISTER_DIS: dict[str, tuple[str, ...]] = {
    "00010000": ("total",),
    "0001FF00": ("total", "sharp", "peak", "flat", "valley"),
    "00020000": ("reverse",),
    "00030000": ("reactive",),
}
DEMAND_DI = "01010000"

#: address (nameplate, 12 digits) → register code → value
Registers = Mapping[str, Mapping[str, Decimal]]


def reply_for(request: dlt645.Frame, registers: Registers, now: Callable[[], dt.datetime]) -> bytes | None:
    """The bus's answer to one request frame, or None when no meter answers (unknown address, not a read)."""
    if request.control.function != dlt645.READ_DATA or request.control.is_reply:
        return None
    meter = registers.get(request.address)
    if meter is None:
        return None
    di = request.di
    if di in REGISTER_DIS and all(code in meter for code in REGISTER_DIS[di]):
        return dlt645.encode_reply(request.address, di, [meter[code] for code in REGISTER_DIS[di]], preamble=True)
    if di == DEMAND_DI and "demand" in meter:
        return dlt645.encode_reply(request.address, di, [meter["demand"], now().replace(second=0, microsecond=0)],
                                   preamble=True)
    return dlt645.encode_error_reply(request.address, ["no_data"], preamble=True)


class BusSimulator:
    """An asyncio TCP server on ``host:port`` answering for every meter in ``registers``."""

    def __init__(self, registers: Registers, host: str = "127.0.0.1", port: int = 0,
                 now: Callable[[], dt.datetime] = dt.datetime.now):
        self.registers = registers
        self.host = host
        self.port = port
        self.now = now
        self.requests = 0
        self._server: asyncio.base_events.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        try:
            while chunk := await reader.read(512):
                buffer += chunk
                while True:
                    try:
                        frame, buffer = dlt645.find_frame(buffer, strict=False)
                    except dlt645.FrameError:
                        buffer = b""  # a garbled request: a real bus stays silent and waits for the next
                        break
                    if frame is None:
                        break
                    self.requests += 1
                    answer = reply_for(frame, self.registers, self.now)
                    if answer is not None:
                        writer.write(answer)
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class ThreadedBus:
    """The simulator on its own event loop in a daemon thread, for synchronous callers (the demo, tests)."""

    def __init__(self, registers: Registers, host: str = "127.0.0.1", port: int = 0):
        self.bus = BusSimulator(registers, host, port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="dlt645-bus")

    def __enter__(self) -> "ThreadedBus":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.bus.start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.bus.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def port(self) -> int:
        return self.bus.port
