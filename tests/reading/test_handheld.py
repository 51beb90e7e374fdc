"""The reader's phone pages: my routes, the walk one stop at a time, entry with the outcome of its validation."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from powercis.core.models import Org
from powercis.reading import selectors
from powercis.reading.models import PlanStatus, ReadingPlan, RegisterRead, TaskStatus
from powercis.reading.services import entry, plans

from . import factory
from .test_pages import _english, login, other_county_reader, period_now, text, walk  # noqa: F401

pytestmark = pytest.mark.django_db


def stop_url(walk, index: int) -> str:
    return reverse("reading:handheld_stop", args=[walk.plan.pk, walk.tasks[index].pk])


GOOD = {"action": "read", "reg_total": "100.00", "reg_peak": "30.00", "reg_flat": "40.00", "reg_valley": "30.00",
        "photo_ref": "IMG_0001.jpg"}
LOW = {"action": "read", "reg_total": "123.40", "reg_peak": "30.00", "reg_flat": "63.40", "reg_valley": "30.00"}


def test_my_routes_lists_the_readers_plans_with_progress(login, walk):
    page = text(login("reader").get(reverse("reading:my_routes")))
    card = re.search(r'data-plan="R-UI">.*?data-walk="R-UI"', page, re.S).group(0)
    assert "data-progress>0/2<" in card and "2 not read yet" in card
    assert reverse("reading:handheld", args=[walk.plan.pk]) in page
    assert login("clerk").get(reverse("reading:my_routes")).status_code == 403


def test_the_walk_starts_at_the_first_stop_not_read(login, walk, actor):
    client = login("reader")
    start = client.get(reverse("reading:handheld", args=[walk.plan.pk]))
    assert start.status_code == 302 and start.url == stop_url(walk, 0)
    entry.record_reads(actor("reader"), walk.tasks[0], values={"total": "100.00"})
    start = client.get(reverse("reading:handheld", args=[walk.plan.pk]))
    assert start.url == stop_url(walk, 1)
    assert login(other_county_reader()).get(stop_url(walk, 0)).status_code == 404


def test_a_stop_shows_what_the_reader_needs_at_the_meter(login, walk):
    page = text(login("reader").get(stop_url(walk, 0)))
    account, meter = walk.accounts[0], walk.meters[0]
    assert re.search(rf'id="stop-account">{account.account_no}<', page)
    assert account.service_address in page and f'id="stop-meter">{meter.asset_no}<' in page
    assert 'id="stop-number">1 / 2<' in page
    assert f'href="{stop_url(walk, 1)}"' in page and 'aria-disabled="true" id="stop-prev"' in page
    for register in ("total", "peak", "flat", "valley"):
        assert re.search(rf'<input[^>]*name="reg_{register}"[^>]*inputmode="decimal"|'
                         rf'<input[^>]*inputmode="decimal"[^>]*name="reg_{register}"', page)
    assert 'name="reg_reactive"' not in page and 'name="reg_demand"' not in page
    assert 'data-total="1"' in page and 'name="photo_ref"' in page
    assert '<option value="LOCKED">Door locked, nobody home</option>' in page
    assert "reading/handheld.js" in page and "<script>" not in page
    assert 'data-last="0.00"' in page or 'data-last="0"' in page  # the meter's start reading
    assert "At installation" in page


def test_the_expected_range_comes_from_the_history(login, staff, actor):
    today = timezone.localdate()
    route = factory.route(code="R-HIST", reader=staff("reader"), read_day=1)
    factory.metered_account(route="R-HIST", order=1, installed_on=today - dt.timedelta(days=120),
                            registers=("total",))
    station = Org.objects.get(code="HZ010101")
    tz = timezone.get_current_timezone()
    for months_back, value in ((2, "1000.00"), (1, "1300.00")):
        index = period_now().year * 12 + period_now().month - 1 - months_back
        period = dt.date(index // 12, index % 12 + 1, 1)
        plans.generate(actor("clerk"), org=station, period=period)
        task = ReadingPlan.objects.get(route=route, period=period).tasks.get()
        entry.record_reads(actor("reader"), task, values={"total": value},
                           read_at=dt.datetime.combine(period, dt.time(10), tzinfo=tz))
    plans.generate(actor("clerk"), org=station, period=period_now())
    plan = ReadingPlan.objects.get(route=route, period=period_now())
    stop = selectors.walk(plan)[0]
    assert stop.expected_low is not None and stop.expected_low < stop.expected_high
    page = text(login("reader").get(reverse("reading:handheld_stop", args=[plan.pk, stop.task.pk])))
    assert f'data-low="{stop.expected_low}"' in page and f'data-high="{stop.expected_high}"' in page
    assert f"{stop.expected_low} – {stop.expected_high}" in page
    assert re.search(r'data-last="total">1300.0*<', page)


def test_the_last_reading_of_a_remote_route_is_the_head_ends(login, staff, actor):
    """A meter of a remotely read route that has to be read on site (the concentrator is down): the stop shows last
    period's frozen read, the one the validation starts from, not the installation reading."""
    today = timezone.localdate()
    route = factory.route(code="R-WAS-REMOTE", reader=staff("reader"), method="remote", read_day=10)
    _account, point, meter = factory.metered_account(route="R-WAS-REMOTE", order=1, registers=("total",),
                                                     installed_on=today - dt.timedelta(days=120))
    station = Org.objects.get(code="HZ010101")
    index = period_now().year * 12 + period_now().month - 2
    previous = dt.date(index // 12, index % 12 + 1, 1)
    plans.generate(actor("clerk"), org=station, period=previous)
    frozen = dt.datetime.combine(previous.replace(day=10), dt.time.min, tzinfo=timezone.get_current_timezone())
    RegisterRead.objects.create(metering_point=point, meter=meter, read_at=frozen, total=Decimal("812.34"),
                                source="ami", recorded_at=frozen)
    plans.generate(actor("clerk"), org=station, period=period_now())
    plan = ReadingPlan.objects.get(route=route, period=period_now())
    page = text(login("reader").get(reverse("reading:handheld_stop", args=[plan.pk, plan.tasks.get().pk])))
    assert re.search(r'data-last="total">812.34<', page) and 'data-last="812.34' in page
    assert "At installation" not in page and previous.replace(day=10).isoformat() in page
    earlier = ReadingPlan.objects.get(route=route, period=previous)
    listing = text(login("clerk").get(reverse("reading:plan_detail", args=[earlier.pk])))
    assert 'data-read="total">Total 812.34<' in listing  # the collected reading is the task's


def test_entering_the_walk_shows_each_outcome_and_a_repeat_is_recorded_once(login, walk):
    client = login("reader")
    first = client.post(stop_url(walk, 0), GOOD)
    assert first.status_code == 302 and first.url == stop_url(walk, 1) + f"?done={walk.tasks[0].pk}"
    page = text(client.get(first.url))
    assert "Stop 1 saved." in page and 'data-outcome="passed"' in page and 'data-read="total">Total 100.00<' in page
    second = client.post(stop_url(walk, 1), LOW)
    assert second.url == stop_url(walk, 1) + f"?done={walk.tasks[1].pk}"  # nothing left to read: stay
    page = text(client.get(second.url))
    assert "Stop 2 saved." in page and 'data-exception="lower"' in page
    assert "This period 123.40 is below last period&#x27;s 500.00" in page
    revisit = text(client.get(stop_url(walk, 1)))
    assert re.search(r'name="reg_total"[^>]*value="123.40"|value="123.40"[^>]*name="reg_total"', revisit)
    reads = RegisterRead.objects.filter(task=walk.tasks[1]).count()
    again = text(client.post(stop_url(walk, 1), LOW, follow=True))
    assert "Already recorded" in again
    assert RegisterRead.objects.filter(task=walk.tasks[1]).count() == reads == 1  # one read, every register
    assert RegisterRead.objects.get(task=walk.tasks[1]).total == Decimal("123.40")
    walk.tasks[0].refresh_from_db()
    assert (walk.tasks[0].status, walk.tasks[0].source, walk.tasks[0].photo_ref) == (TaskStatus.READ, "handheld",
                                                                                     "IMG_0001.jpg")
    assert walk.tasks[0].read_by.username == "reader"


def test_bad_values_are_shown_on_their_field_and_nothing_is_written(login, walk):
    client = login("reader")
    page = text(client.post(stop_url(walk, 0), {**GOOD, "reg_total": "12.345"}))
    assert re.search(r'name="reg_total".*?The register shows 2 decimal places.', page, re.S)
    page = text(client.post(stop_url(walk, 0), {"action": "read"}))
    assert "Enter the readings, or choose why the meter could not be read." in page
    assert not RegisterRead.objects.filter(task=walk.tasks[0]).exists()


def test_a_meter_that_cannot_be_read_needs_a_reason(login, walk):
    client = login("reader")
    page = text(client.post(stop_url(walk, 0), {"action": "unreadable", "note": "敲门无人"}))
    assert "Choose why the meter could not be read." in page
    done = client.post(stop_url(walk, 0), {"action": "unreadable", "reason_code": "LOCKED", "note": "敲门无人",
                                           "photo_ref": "door.jpg"}, follow=True)
    page = text(done)
    assert "Stop 1 recorded as not read." in page
    assert "The meter could not be read: Door locked, nobody home." in page
    walk.tasks[0].refresh_from_db()
    assert (walk.tasks[0].status, walk.tasks[0].unreadable_reason, walk.tasks[0].photo_ref) == (
        TaskStatus.UNREADABLE, "LOCKED", "door.jpg")


def test_a_released_plan_takes_no_entry(login, walk):
    ReadingPlan.objects.filter(pk=walk.plan.pk).update(status=PlanStatus.RELEASED)
    client = login("reader")
    page = text(client.get(stop_url(walk, 0)))
    assert 'id="stop-form"' not in page and "has been released to billing" in page
    client.post(stop_url(walk, 0), GOOD)
    assert not RegisterRead.objects.filter(task=walk.tasks[0]).exists()
