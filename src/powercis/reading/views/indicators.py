"""Reading indicators: actual-read, error and on-time rates per route / reader / org / period, and collection success.

The reading rates come from ``selectors.indicators`` (counted from the plans' tasks).
The collection success rate (采集成功率) per transformer area and day is counted here
in two grouped queries: the points expected to be collected — settlement points of
accounts on remotely read routes, and the targets of active collection channels — and,
per local day, how many distinct of them have a valid remote or head-end read.  The
expected set is today's archive, so a past day is measured against the points as they
are now configured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import authz
from powercis.core.views.common import page, requires
from powercis.metering.models import MeteringPoint

from .. import selectors
from ..forms import IndicatorForm
from ..models import CollectionTarget, ReadException, ReadingRoute, ReadMethod, RegisterRead, Source
from .common import VIEW, current_period, parse_period, scope_orgs, within

#: periods shown when none are chosen (the current one and the months before it)
DEFAULT_MONTHS = 6
DEFAULT_DAYS = 7
PERCENT_AXIS = {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}}


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01")) if whole else None


@dataclass
class AreaDays:
    area_id: int | None
    label: str
    expected: int
    succeeded: dict[dt.date, int] = field(default_factory=dict)

    def cells(self, days):
        return [(day, self.succeeded.get(day, 0), _rate(self.succeeded.get(day, 0), self.expected)) for day in days]


def expected_points(user, org=None):
    """Metering points that should be collected remotely: remote routes' settlement points and channel targets."""
    remote_route = ReadingRoute.objects.filter(company_id=OuterRef("company_id"), method=ReadMethod.REMOTE,
                                               code=OuterRef("account__reading_route_code"), is_active=True)
    targeted = CollectionTarget.objects.filter(metering_point_id=OuterRef("pk"), channel__is_active=True)
    points = MeteringPoint.objects.filter(is_active=True).filter(
        Q(Exists(remote_route), kind=MeteringPoint.Kind.SETTLEMENT) | Q(Exists(targeted)))
    points = authz.restrict_any(points, user, selectors.VIEW_PERMS, path_field="org_path")
    return within(points, org)


def collection_success(user, *, first: dt.date, last: dt.date, org=None) -> tuple[list[AreaDays], list[dt.date]]:
    """Per transformer area: points expected, and per local day the distinct points with a remote/head-end read."""
    points = expected_points(user, org)
    areas: dict[int | None, AreaDays] = {}
    for row in (points.values("transformer_area_id", "transformer_area__code", "transformer_area__name")
                .annotate(n=Count("id")).order_by("transformer_area__code")):
        label = f"{row['transformer_area__code']} {row['transformer_area__name']}" if row["transformer_area_id"] \
            else _("No transformer area")
        areas[row["transformer_area_id"]] = AreaDays(row["transformer_area_id"], label, row["n"])
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    reads = (RegisterRead.objects.filter(metering_point__in=points, status=RegisterRead.Status.VALID,
                                         source__in=(Source.REMOTE, Source.AMI), read_at__gte=start, read_at__lt=end)
             .annotate(day=TruncDate("read_at", tzinfo=tz))
             .values("metering_point__transformer_area_id", "day")
             .annotate(n=Count("metering_point_id", distinct=True)))
    for row in reads:
        area = areas.get(row["metering_point__transformer_area_id"])
        if area is not None:
            day = row["day"] if isinstance(row["day"], dt.date) else dt.date.fromisoformat(str(row["day"]))
            area.succeeded[day] = row["n"]
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return list(areas.values()), days


def _periods(first: dt.date, last: dt.date) -> list[dt.date]:
    result, day = [], first
    while day <= last:
        result.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return result


def _month_back(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + period.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _num(value) -> str | None:
    return None if value is None else str(value)


def rate_chart(rows, kind: str) -> dict:
    """An ECharts option: the three reading rates per row label, as bars (per group) or lines (per period)."""
    names = (_("Actual-read rate"), _("Reading error rate"), _("On-time rate"))
    attrs = ("actual_read_rate", "error_rate", "on_time_rate")
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "bottom": 56, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": [row.label for row in rows],
                  "axisLabel": {"rotate": 30 if kind == "bar" else 0}},
        "yAxis": PERCENT_AXIS,
        "series": [{"name": str(name), "type": kind, "data": [_num(getattr(row.tally, attr)) for row in rows]}
                   for name, attr in zip(names, attrs)],
    }


def collection_chart(areas: list[AreaDays], days: list[dt.date]) -> dict:
    expected = sum(a.expected for a in areas)
    data = [_num(_rate(sum(a.succeeded.get(day, 0) for a in areas), expected)) for day in days]
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "bottom": 32, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": [day.strftime("%m-%d") for day in days]},
        "yAxis": PERCENT_AXIS,
        "series": [{"name": str(_("Collection success rate")), "type": "line", "data": data}],
    }


@requires(*VIEW)
def indicator_page(request):
    orgs = scope_orgs(request.user)
    form = IndicatorForm(request.GET or None, orgs=orgs)
    data = form.cleaned_data if form.is_valid() else {}
    org = data.get("org")
    last = parse_period(data.get("period_to")) or current_period()
    first = parse_period(data.get("period_from")) or _month_back(last, DEFAULT_MONTHS - 1)
    if first > last:
        first, last = last, first
    by = data.get("by") or "route"
    plans = within(selectors.visible_plans(request.user).filter(period__gte=first, period__lte=last), org)
    rows = selectors.indicators(plans, by)
    trend = selectors.indicators(plans, "period")
    total = selectors.Tally()
    for row in trend:
        total.add(row.tally)
    today = timezone.localdate()
    day_to = data.get("day_to") or today
    day_from = data.get("day_from") or day_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if day_from > day_to:
        day_from, day_to = day_to, day_from
    day_from = max(day_from, day_to - dt.timedelta(days=92))  # a quarter at most: one column per day
    areas, days = collection_success(request.user, first=day_from, last=day_to, org=org)
    return render(request, "reading/indicators.html", {
        "form": form, "rows": rows, "trend": trend, "total": total, "by": by, "first": first, "last": last,
        "by_label": dict(IndicatorForm.BY).get(by, by), **page(request, [(a, a.cells(days)) for a in areas]),
        "days": days, "day_from": day_from, "day_to": day_to,
        "bar_chart": rate_chart(rows, "bar"), "line_chart": rate_chart(trend, "line"),
        "collection_chart": collection_chart(areas, days),
    })


#: periods on the dashboard card's chart: the current one and the months before it
CARD_MONTHS = 6


def card_chart(user, period: dt.date) -> dict:
    """The card's trend: actual-read, error and on-time rates of the last CARD_MONTHS periods in the user's scope.

    A supervisor opens the dashboard to see whether reading is slipping; the current month
    alone cannot show that.  Every period has its place on the axis (a month without plans
    is a gap, not a missing label), so the months line up from one visit to the next.
    """
    first = _month_back(period, CARD_MONTHS - 1)
    plans = selectors.visible_plans(user).filter(period__gte=first, period__lte=period)
    found = {row.key: row for row in selectors.indicators(plans, "period")}
    rows = [found.get(month) or selectors.IndicatorRow(key=month, label=f"{month:%Y-%m}", tally=selectors.Tally())
            for month in _periods(first, period)]
    chart = rate_chart(rows, "line")
    chart["grid"] = {"left": 8, "right": 8, "bottom": 4, "top": 32, "containLabel": True}
    return chart


def dashboard_card(user) -> dict | None:
    """The reading card of the dashboard: this period's progress and rates in the user's scope, open exceptions,
    and the rates of the last periods as a chart."""
    if not any(authz.authorize(user, p) for p in selectors.VIEW_PERMS):
        return None
    period = current_period()
    plans = selectors.visible_plans(user).filter(period=period, opening=False)
    total = selectors.Tally()
    for tally in selectors.plan_tallies(plans).values():
        total.add(tally)
    return {
        "period": period, "plans": plans.count(), "released": plans.filter(status="released").count(), "tally": total,
        "open_exceptions": selectors.visible_exceptions(user).filter(status=ReadException.Status.OPEN).count(),
        "chart": card_chart(user, period),
    }


def _card_context(user) -> dict | None:
    card = dashboard_card(user)
    return {"reading_card": card} if card else None


def register_card() -> None:
    """The reading card on the dashboard (core.dashboard)."""
    from powercis.core.dashboard import Card, register

    register(Card("reading", "reading/_dashboard_card.html", _card_context, 30,
                  scripts=("vendor/echarts/echarts.min.js", "reading/charts.js"), styles=("reading/reading.css",)))
