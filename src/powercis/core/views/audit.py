"""The audit trail viewer: search, one record with its before/after, the daily modification report, alerts and rules."""

from __future__ import annotations

import csv
import io
import json

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import authz, selectors
from ..forms import AlertAckForm, AlertRuleForm, AuditSearchForm, DayForm
from ..models import AuditAlert, AuditAlertRule, AuditRecord
from ..services import alerts as alert_services
from .common import actor, page, requires, run, scoped_get


def _search(user, form: AuditSearchForm):
    records = selectors.audit_records(user)
    if not form.is_valid():
        return records.none() if form.is_bound else records
    data = form.cleaned_data
    if data["user"]:
        records = records.filter(Q(actor__username__iexact=data["user"]) | Q(actor_name__icontains=data["user"]))
    if data["action"]:
        records = records.filter(action__icontains=data["action"])
    if data["object_type"]:
        records = records.filter(object_type=data["object_type"])
    if data["object_id"]:
        records = records.filter(object_id=data["object_id"])
    if data["category"]:
        records = records.filter(category=data["category"])
    if data["date_from"]:
        records = records.filter(at__gte=selectors.local_day_range(data["date_from"])[0])
    if data["date_to"]:
        records = records.filter(at__lt=selectors.local_day_range(data["date_to"])[1])
    return records


@requires("core.view_audit")
def audit_search(request):
    form = AuditSearchForm(request.GET or None)
    records = _search(request.user, form).order_by("-seq")
    return render(request, "core/audit_search.html", {"form": form, **page(request, records)})


@requires("core.view_audit")
def audit_record(request, seq):
    record = scoped_get(selectors.audit_records(request.user), seq=seq)
    changes = [(field, values[0], values[1]) if isinstance(values, list) and len(values) == 2 else (field, None, values)
               for field, values in (record.changes or {}).items()]
    return render(request, "core/audit_record.html", {
        "record": record,
        "changes": changes,
        "alerts": AuditAlert.objects.filter(record=record).select_related("rule"),
    })


EXPORT_COLUMNS = (
    ("seq", "序号 / Seq"), ("at", "时间 / Time"), ("actor_name", "用户 / User"), ("post_code", "岗位 / Post"),
    ("action", "操作 / Action"), ("object_type", "对象类型 / Object type"), ("object_repr", "对象 / Object"),
    ("changes", "变更内容 / Changes"), ("reason", "原因 / Reason"), ("ref", "工单或审批 / Work order or approval"),
    ("source_ip", "来源地址 / Source address"),
)


def _export_value(record: AuditRecord, name: str):
    value = getattr(record, name)
    if name == "at":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if name == "changes":
        return json.dumps(value, ensure_ascii=False)
    return value


def _export(records, day, fmt: str) -> HttpResponse:
    filename = f"audit-{day.isoformat()}.{fmt}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=day.isoformat())
        sheet.append([label for _name, label in EXPORT_COLUMNS])
        for record in records:
            sheet.append([_export_value(record, name) for name, _label in EXPORT_COLUMNS])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([label for _name, label in EXPORT_COLUMNS])
        for record in records:
            writer.writerow([_export_value(record, name) for name, _label in EXPORT_COLUMNS])
        # UTF-8 with BOM so that Excel opens the Chinese text correctly.
        response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@requires("core.view_audit")
def audit_daily(request):
    form = DayForm(request.GET or None, initial={"day": timezone.localdate()})
    day = form.cleaned_data["day"] if form.is_valid() else timezone.localdate()
    records = list(selectors.daily_changes(request.user, day).select_related("actor"))
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _export(records, day, fmt)
    _start, end = selectors.local_day_range(day)
    anchor = AuditRecord.objects.filter(at__lt=end).order_by("-seq").only("seq", "hash", "at").first()
    alerts = selectors.alerts(request.user).filter(day=day) if authz.authorize(request.user, "core.handle_alerts") else []
    return render(request, "core/audit_daily.html", {
        "form": form, "day": day, "records": records, "summary": selectors.daily_summary(records),
        "anchor": anchor, "alerts": alerts,
    })


@requires("core.handle_alerts")
def alert_list(request):
    status = request.GET.get("status", "open")
    alerts = selectors.alerts(request.user)
    if status in (AuditAlert.Status.OPEN, AuditAlert.Status.ACKNOWLEDGED):
        alerts = alerts.filter(status=status)
    return render(request, "core/alert_list.html", {"status": status, **page(request, alerts.order_by("-created_at"))})


@requires("core.handle_alerts")
def alert_detail(request, pk):
    alert = scoped_get(selectors.alerts(request.user).select_related("record"), pk=pk)
    form = AlertAckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if run(request, form, alert_services.acknowledge, actor(request), alert, note=form.cleaned_data["note"]):
            messages.success(request, _("The alert was marked as handled."))
            return redirect("core:alert_list")
    same_day = selectors.audit_records(request.user).filter(
        actor_id=alert.actor_id, at__gte=selectors.local_day_range(alert.day)[0],
        at__lt=selectors.local_day_range(alert.day)[1]).order_by("seq")[:200]
    return render(request, "core/alert_detail.html", {"alert": alert, "form": form, "same_day": same_day})


def _rules(user):
    companies = selectors.companies_of(user, "core.manage_alert_rules")
    return AuditAlertRule.objects.filter(company__in=companies).select_related("company").order_by("company__code", "kind")


@requires("core.manage_alert_rules")
def alert_rules(request):
    return render(request, "core/alert_rules.html", {"rules": _rules(request.user)})


@requires("core.manage_alert_rules")
def alert_rule_edit(request, pk):
    rule = scoped_get(_rules(request.user), pk=pk)
    params = rule.params
    initial = {"name": rule.name, "is_active": rule.is_active, "fields_text": "\n".join(params.get("fields", [])),
               "start": params.get("start"), "end": params.get("end"),
               "weekdays": [str(d) for d in params.get("weekdays", [])], "max_per_day": params.get("max_per_day")}
    form = AlertRuleForm(request.POST or None, initial=initial, kind=rule.kind)
    if request.method == "POST" and form.is_valid():
        done = run(request, form, alert_services.update_rule, actor(request), rule, name=form.cleaned_data["name"],
                   params=form.params(), is_active=form.cleaned_data["is_active"], reason=form.cleaned_data["reason"])
        if done is not None:
            messages.success(request, _("The rule was saved."))
            return redirect("core:alert_rules")
    return render(request, "core/alert_rule_form.html", {"rule": rule, "form": form})
