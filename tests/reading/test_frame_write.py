"""Rows written from a frame are the rows the ORM would have written: same key texts, same values."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from powercis.reading.engine.write import insert_frame
from powercis.reading.models import RegisterRead

from . import factory

pytestmark = pytest.mark.django_db


def frame_read(point, meter, at: dt.datetime, *, value: str = "12.5000") -> pl.DataFrame:
    return pl.DataFrame({
        "metering_point_id": [point.pk], "meter_id": [meter.pk],
        "read_at": [at], "total": [value], "source": ["estimate"], "revision": [0], "estimated": [True],
        "status": ["valid"], "photo_ref": [""], "note": [""], "flags": [""], "recorded_at": [timezone.now()],
    }, schema_overrides={"read_at": pl.Datetime("us", "UTC"), "recorded_at": pl.Datetime("us", "UTC")})


@pytest.mark.parametrize("at", [dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC),
                                dt.datetime(2026, 10, 25, 12, 0, 0, 250_000, tzinfo=dt.UTC)])
def test_a_frame_read_is_found_by_its_instant_and_taken_by_the_unique_key(at):
    _account, point, meter = factory.metered_account(registers=("total",))
    assert insert_frame("reading_registerread", frame_read(point, meter, at)) == 1
    stored = RegisterRead.objects.get(meter=meter, read_at=at)
    assert (stored.total, stored.source, stored.estimated) == (factory.D("12.5"), "estimate", True)
    # the same key through the ORM is a duplicate, whatever wrote the first one
    with pytest.raises(IntegrityError), transaction.atomic():
        RegisterRead.objects.create(metering_point=point, meter=meter, read_at=at,
                                    total=factory.D("13"), source="estimate", recorded_at=timezone.now())
    assert RegisterRead.objects.filter(meter=meter).count() == 1
