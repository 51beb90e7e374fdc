"""Collection channels: targets, a run against the simulated meter bus, failures, idempotent storage, schedule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import Org
from powercis.reading.collection.simulator import ThreadedBus
from powercis.reading.models import CollectionRun, RegisterRead, Source
from powercis.reading.services import collection

from . import factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def metered(db):
    return [factory.metered_account(registers=("total", "sharp", "peak", "flat", "valley", "reverse"))
            for _ in range(3)]


def make_channel(actor, port, **fields):
    return collection.create_channel(actor("metering"), org=Org.objects.get(code="HZ0101"), code="CH-01",
                                     name="城关台区集中器", host="127.0.0.1", port=port,
                                     data_ids=["0001FF00", "00020000"], timeout_seconds=Decimal("0.5"), retries=1,
                                     **fields)


def test_channel_fields_are_checked(actor):
    with pytest.raises(ValidationFailed) as bad_di:
        collection.create_channel(actor("metering"), org=Org.objects.get(code="HZ0101"), code="CH-X", name="x",
                                  host="127.0.0.1", port=9000, data_ids=["00FF"])
    assert "data_ids" in bad_di.value.fields
    with pytest.raises(NotAuthorized):
        collection.create_channel(actor("reader"), org=Org.objects.get(code="HZ0101"), code="CH-X", name="x",
                                  host="127.0.0.1", port=9000)


def test_a_run_reads_the_bus_stores_remote_reads_and_lists_the_silent_meter(metered, actor):
    (_a1, p1, m1), (_a2, p2, m2), (_a3, p3, m3) = metered
    bus_values = {
        m1.asset_no: {"total": Decimal("1234.56"), "sharp": Decimal("100.00"), "peak": Decimal("400.10"),
                      "flat": Decimal("500.23"), "valley": Decimal("234.23"), "reverse": Decimal("0.00")},
        m2.asset_no: {"total": Decimal("88.00"), "sharp": Decimal("0.00"), "peak": Decimal("30.00"),
                      "flat": Decimal("28.00"), "valley": Decimal("30.00"), "reverse": Decimal("1.25")},
        # the third meter is not on the bus: it never answers
    }
    with ThreadedBus(bus_values) as bus:
        channel = make_channel(actor, bus.port)
        with pytest.raises(ValidationFailed):
            collection.add_targets(actor("metering"), channel, metering_point_codes=[p1.code, "NO-SUCH-POINT"])
        assert collection.add_targets(actor("metering"), channel,
                                      metering_point_codes=[p1.code, p2.code, p3.code]) == 3
        run = collection.run_channel(actor("metering"), channel)
    assert (run.targets, run.succeeded, run.failed) == (3, 2, 1)
    assert run.failures[0]["meter"] == m3.asset_no
    assert {e["reason"] for e in run.failures[0]["errors"]} and run.failures[0]["errors"][0]["di"] == "0001FF00"
    # one read per meter, with every register the meter is recorded with
    stored = {r.meter_id: r.registers() for r in RegisterRead.objects.filter(batch=run.batch)}
    assert stored == {m.pk: bus_values[m.asset_no] for m in (m1, m2)}
    assert stored[m1.pk]["valley"] == Decimal("234.23") and stored[m2.pk]["reverse"] == Decimal("1.25")
    assert sum(len(registers) for registers in stored.values()) == 12
    assert set(RegisterRead.objects.filter(batch=run.batch).values_list("source", flat=True)) == {Source.REMOTE}
    assert run.batch.rows_accepted == 12 and run.batch.sender == "CH-01"
    channel.refresh_from_db()
    assert channel.last_run_at == run.started_at


def test_due_channels_follow_the_daily_run_time(actor):
    channel = make_channel(actor, 9, run_at=dt.time(2, 30))
    tz = timezone.get_current_timezone()
    before = dt.datetime(2026, 10, 26, 2, 0, tzinfo=tz)
    after = dt.datetime(2026, 10, 26, 2, 45, tzinfo=tz)
    assert channel in collection.due_channels(after)
    assert channel in collection.due_channels(before)  # never run: yesterday's run time has passed
    channel.last_run_at = after
    channel.save(update_fields=["last_run_at"])
    assert channel not in collection.due_channels(after + dt.timedelta(hours=3))
    assert channel in collection.due_channels(after + dt.timedelta(days=1))
    assert not CollectionRun.objects.exists()
