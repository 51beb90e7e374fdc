"""The chart on the dashboard's reading card: the rates of the last six periods, counted in the viewer's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from powercis.core.models import Org
from powercis.reading.models import ReadingPlan
from powercis.reading.services import entry, plans
from tests import archive_factory as make

from . import factory
from .test_pages import _english, chart_data, login, other_county_reader, text  # noqa: F401

pytestmark = pytest.mark.django_db

VALUES = {"total": "100.00", "peak": "30.00", "flat": "40.00", "valley": "30.00"}


def month_back(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + period.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def card_chart(client) -> dict:
    page = text(client.get(reverse("web:dashboard")))
    assert 'id="reading-card-chart"' in page
    # the card brings its chart library and drawing code, each once, library first
    assert page.count("vendor/echarts/echarts.min.js") == 1
    assert page.index("vendor/echarts/echarts.min.js") < page.index("reading/charts.js")
    return chart_data(page, "reading-card-chart-data")


def series(chart: dict, name: str) -> list:
    return next(s["data"] for s in chart["series"] if s["name"] == name)


def plan_of(route, period):
    return ReadingPlan.objects.get(route=route, period=period)


def read_tasks(plan, count: int, *, on_day: bool = False) -> None:
    """Read the first ``count`` tasks of the plan (on its scheduled day when ``on_day``)."""
    read_at = dt.datetime.combine(plan.scheduled_on, dt.time(10), tzinfo=timezone.get_current_timezone()) \
        if on_day else None
    for task in list(plan.tasks.order_by("seq"))[:count]:
        entry.record_reads(make.system(), task, values=VALUES, read_at=read_at)


@pytest.fixture
def periods(staff):
    """城关 (HZ010101): last month 2 of 2 read on the read day, this month 1 of 2;
    青山 (HZ010201): last month 0 of 1 read, this month 1 of 1."""
    now = timezone.localdate().replace(day=1)
    last = month_back(now, 1)
    home = factory.route("HZ010101", code="R-CARD", reader=staff("reader"))
    for order in (1, 2):
        factory.metered_account("HZ010101", route="R-CARD", order=order, installed_on=month_back(now, 3))
    other = factory.route("HZ010201", code="R-CARD-QS")
    factory.metered_account("HZ010201", route="R-CARD-QS", installed_on=month_back(now, 3))
    company = Org.objects.get(code="HZ")
    plans.generate(make.system(), org=company, period=last)
    read_tasks(plan_of(home, last), 2, on_day=True)
    plans.generate(make.system(), org=company, period=now)
    read_tasks(plan_of(home, now), 1)
    read_tasks(plan_of(other, now), 1)
    return now, last, plan_of(home, now), plan_of(other, now)


def test_the_card_chart_shows_six_periods_of_rates_in_the_users_scope(login, periods):
    now, last, home_plan, other_plan = periods
    chart = card_chart(login("clerk"))
    months = [f"{month_back(now, n):%Y-%m}" for n in range(5, -1, -1)]
    assert chart["xAxis"]["data"] == months
    # 城关 only: last month 2 of 2 read, this month 1 of 2; the months before have no plans (gaps)
    assert series(chart, "Actual-read rate") == [None, None, None, None, "100.00", "50.00"]
    assert series(chart, "Reading error rate") == [None, None, None, None, "0.00", "0.00"]
    on_time_now = "100.00" if timezone.localdate() <= home_plan.scheduled_on else "0.00"
    assert series(chart, "On-time rate") == [None, None, None, None, "100.00", on_time_now]


def test_a_wider_scope_adds_the_other_countys_figures_and_a_narrower_one_sees_only_its_own(login, periods):
    now, last, _home, other_plan = periods
    manager = card_chart(login("manager"))  # 城关 and 青山: 2 of 3 read in each month
    assert series(manager, "Actual-read rate") == [None, None, None, None, "66.67", "66.67"]
    qingshan = card_chart(login(other_county_reader()))  # 青山 only: 0 of 1 last month, 1 of 1 this month
    assert series(qingshan, "Actual-read rate") == [None, None, None, None, "0.00", "100.00"]


def test_staff_without_reading_see_no_card_and_no_chart_code(login):
    page = text(login("cashier").get(reverse("web:dashboard")))
    assert 'id="reading-card"' not in page and "reading/charts.js" not in page
