"""Dashboard (工作台) and the error pages."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from powercis.core import authz, dashboard as dashboard_cards, selectors
from powercis.core.models import AuditChainHead, PostAssignment


def _audit_chart(user) -> dict | None:
    """Changes per day over the last 14 days in the user's audit scope, as an ECharts option."""
    if not authz.authorize(user, "core.view_audit"):
        return None
    today = timezone.localdate()
    start, _end = selectors.local_day_range(today - dt.timedelta(days=13))
    rows = (
        selectors.audit_records(user)
        .filter(at__gte=start)
        .annotate(day=TruncDate("at", tzinfo=timezone.get_current_timezone()))
        .values("day", "category")
        .annotate(n=Count("id"))
    )
    days = [today - dt.timedelta(days=offset) for offset in range(13, -1, -1)]
    series: dict[str, dict[dt.date, int]] = {}
    for row in rows:
        series.setdefault(row["category"], {})[row["day"]] = row["n"]
    labels = {"change": _("Master data changes"), "action": _("Business actions"), "security": _("Security events"),
              "access": _("Personal data views")}
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 16, "bottom": 24, "top": 36},
        "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": str(labels.get(cat, cat)), "type": "bar", "stack": "all",
             "data": [series.get(cat, {}).get(d, 0) for d in days]}
            for cat in ("change", "action", "security", "access")
        ],
    }


ECHARTS = "vendor/echarts/echarts.min.js"


def _cards(request) -> tuple[list[str], list[str], list[str]]:
    """The apps' dashboard cards for this user, rendered (core.dashboard), with the assets the shown cards need."""
    rendered, scripts, styles = [], [], []
    for card in dashboard_cards.cards():
        context = card.context(request.user)
        if context is not None:
            rendered.append(render_to_string(card.template, context, request=request))
            scripts.extend(card.scripts)
            styles.extend(card.styles)
    return rendered, scripts, styles


@login_required
def dashboard(request):
    user = request.user
    inbox = selectors.inbox(user)
    cards, card_scripts, card_styles = _cards(request)
    audit_chart = _audit_chart(user)
    context = {
        "inbox": inbox[:10],
        "inbox_count": inbox.count(),
        "my_open": selectors.submitted_by(user).filter(status="pending")[:10],
        "assignments": PostAssignment.objects.filter(staff=user).select_related("post", "org").order_by("post__code"),
        "can_handle_alerts": authz.authorize(user, "core.handle_alerts"),
        "audit_chart": audit_chart,
        "cards": cards,
        # each asset once, the chart library before the code that draws with it
        "scripts": list(dict.fromkeys(([ECHARTS] if audit_chart is not None else []) + card_scripts)),
        "styles": list(dict.fromkeys(card_styles)),
    }
    if context["can_handle_alerts"]:
        alerts = selectors.open_alerts(user)
        context["alerts"] = alerts[:10]
        context["alert_count"] = alerts.count()
    if context["audit_chart"] is not None:
        context["audit_head"] = AuditChainHead.objects.get(pk=1)
    return render(request, "web/dashboard.html", context)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else _("You do not have permission to open this page.")
    return render(request, "web/errors/403.html", {"message": message}, status=403)


def not_found(request, exception=None):
    return render(request, "web/errors/404.html", {}, status=404)


def server_error(request):
    return render(request, "web/errors/500.html", {}, status=500)
