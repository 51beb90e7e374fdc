"""Reading plan pages: the period's worklist with progress, generate / validate / release, a plan's tasks, the sheet."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core import authz
from powercis.core.views.common import actor, page, requires, scoped_get

from .. import selectors
from ..models import Check, PlanStatus, ReadException, ReadingPlan, Severity
from ..services import plans as plan_services
from ..forms import GenerateForm, OverrideForm, PlanActionForm, ReassignForm, SheetImportForm
from .common import (
    VIEW,
    chosen_org,
    current_period,
    effective_values,
    fill_last_reads,
    flash,
    period_of,
    register_rows,
    scope_orgs,
    within,
)
from .explain import describe_all

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REVIEW = ("reading.review",)
MANAGE = ("reading.manage_routes",)


def blocking_counts(plans) -> dict[int, int]:
    """Open exceptions that block billing, per plan, in one aggregate query."""
    return dict(ReadException.objects.filter(plan__in=plans, status=ReadException.Status.OPEN, severity=Severity.BLOCK)
                .values("plan_id").annotate(n=Count("id")).values_list("plan_id", "n"))


def plan_rows(user, plans) -> list[dict]:
    """A page of plans with their tallies and which actions the user may take on each."""
    plans = list(plans)
    ids = [p.pk for p in plans]
    tallies = selectors.plan_tallies(ReadingPlan.objects.filter(pk__in=ids))
    blocking = blocking_counts(ReadingPlan.objects.filter(pk__in=ids))
    rows = []
    for plan in plans:
        tally = tallies.get(plan.pk, selectors.Tally())
        is_open = plan.status == PlanStatus.OPEN
        can_review = is_open and authz.authorize(user, "reading.review", plan.org)
        rows.append({
            "plan": plan, "tally": tally, "blocking": blocking.get(plan.pk, 0),
            "can_release": can_review and plan.validated_at is not None and not blocking.get(plan.pk, 0),
            "can_validate": can_review,
            "can_enter": is_open and authz.authorize(user, "reading.enter", plan.org),
        })
    return rows


def _period_text(period) -> str:
    return f"{period:%Y-%m}"


@requires(*VIEW)
def plan_list(request):
    period = period_of(request)
    org = chosen_org(request)
    plans = within(selectors.visible_plans(request.user).filter(period=period), org).order_by("route__code", "pk")
    status = request.GET.get("status", "")
    if status in PlanStatus.values:
        plans = plans.filter(status=status)
    paged = page(request, plans)
    total = selectors.Tally()
    for tally in selectors.plan_tallies(plans).values():
        total.add(tally)
    manage_orgs = scope_orgs(request.user, MANAGE)
    review_orgs = scope_orgs(request.user, REVIEW)
    manage_org = org if org is not None and manage_orgs.filter(pk=org.pk).exists() else manage_orgs.first()
    review_org = org if org is not None and review_orgs.filter(pk=org.pk).exists() else review_orgs.first()
    return render(request, "reading/plan_list.html", {
        "period": period, "period_text": _period_text(period), "org": org, "status": status,
        "orgs": scope_orgs(request.user), "statuses": PlanStatus.choices,
        "rows": plan_rows(request.user, paged["page_obj"]), "total": total,
        "generate_form": GenerateForm(orgs=manage_orgs, auto_id="gen_%s", initial={
            "period": _period_text(period), "org": manage_org.pk}) if manage_org is not None else None,
        "review_form": PlanActionForm(orgs=review_orgs, auto_id="rev_%s", initial={
            "period": _period_text(period), "org": review_org.pk}) if review_org is not None else None,
        **paged,
    })


def _back_to_list(request, period=None, org=None):
    url = reverse("reading:plan_list")
    period = period or period_of(request)
    query = f"?period={_period_text(period)}"
    if org is not None:
        query += f"&org={org.pk}"
    return redirect(url + query)


def _period_action(request, perms, form_class=PlanActionForm):
    form = form_class(request.POST, orgs=scope_orgs(request.user, perms))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return None, None
    period = plan_services.check_period(form.cleaned_data["period"])
    return form.cleaned_data["org"], period


def _report_text(report) -> str:
    """The counts of a generation or validation report in words, e.g. "plans created 12 · tasks created 2,400"."""
    labels = {
        "routes": _("routes"), "plans_created": _("plans created"), "plans_existing": _("plans already there"),
        "plans_released": _("plans already released"), "tasks_created": _("tasks created"),
        "tasks_due": _("reads due"), "plans": _("plans"), "tasks_checked": _("tasks checked"),
        "remote_reads_applied": _("readings taken from collection"), "exceptions_opened": _("exceptions found"),
        "exceptions_already_resolved": _("already resolved"), "tasks_passed": _("tasks passed"),
        "tasks_with_exceptions": _("tasks with exceptions"), "tasks_cleared": _("tasks cleared"),
        "seconds": _("seconds"),
    }
    fields = getattr(report, "__dataclass_fields__", None) or {}
    parts = []
    for name in fields:
        value = getattr(report, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or name not in labels:
            continue
        parts.append(f"{labels[name]} {value:,.1f}" if isinstance(value, float) else f"{labels[name]} {value:,}")
    by_rule = getattr(report, "by_rule", None)
    if by_rule:
        names = dict(Check.choices)
        parts.append("; ".join(f"{names.get(rule, rule)} {n:,}" for rule, n in sorted(by_rule.items())))
    return " · ".join(parts)


@require_POST
@requires(*MANAGE)
def plan_generate(request):
    org, period = _period_action(request, MANAGE, GenerateForm)
    if org is None:
        return _back_to_list(request)
    report = flash(request, plan_services.generate, actor(request), org=org, period=period,
                   opening=request.POST.get("opening") in ("on", "true", "1"))
    if report is not None:
        messages.success(request, _("Plans of %(period)s were generated for %(org)s. %(report)s") % {
            "period": _period_text(period), "org": org.name, "report": _report_text(report)})
    return _back_to_list(request, period, org)


@require_POST
@requires(*REVIEW)
def plan_validate(request):
    """Validate one plan (``plan`` in the form) or every open plan of the period in the org the user may review."""
    plan_id = request.POST.get("plan")
    reviewable = authz.restrict(selectors.visible_plans(request.user), request.user, "reading.review",
                                path_field="org_path").filter(status=PlanStatus.OPEN)
    if plan_id:
        plan = scoped_get(selectors.visible_plans(request.user), pk=plan_id)
        plans, back = [plan], redirect("reading:plan_detail", plan.pk)
    else:
        org, period = _period_action(request, REVIEW)
        if org is None:
            return _back_to_list(request)
        plans = list(within(reviewable.filter(period=period), org))
        back = _back_to_list(request, period, org)
        if not plans:
            messages.info(request, _("No open plan of %(period)s to validate.") % {"period": _period_text(period)})
            return back
    report = flash(request, plan_services.validate, actor(request), plans)
    if report is not None:
        messages.success(request, _("%(n)s plans were validated. %(report)s") % {
            "n": len(plans), "report": _report_text(report)})
    return back


@require_POST
@requires("reading.review", "reading.release_override")
def plan_release(request, pk):
    plan = scoped_get(selectors.visible_plans(request.user), pk=pk)
    reason = ""
    if request.POST.get("override"):
        form = OverrideForm(request.POST)
        if not form.is_valid() or not form.cleaned_data["override_reason"].strip():
            messages.error(request, _("Give the reason for releasing with open exceptions."))
            return redirect("reading:plan_detail", plan.pk)
        reason = form.cleaned_data["override_reason"].strip()
    done = flash(request, plan_services.release, actor(request), plan, override_reason=reason)
    if done is not None:
        if done.override_reason:
            messages.warning(request, _("%(plan)s was released to billing by override: %(reason)s") % {
                "plan": plan, "reason": done.override_reason})
        else:
            messages.success(request, _("%(plan)s was released to billing.") % {"plan": plan})
    if request.POST.get("next") == "list":
        return _back_to_list(request, plan.period)
    return redirect("reading:plan_detail", plan.pk)


@require_POST
@requires(*REVIEW)
def plan_release_period(request):
    org, period = _period_action(request, REVIEW)
    if org is None:
        return _back_to_list(request)
    result = flash(request, plan_services.release_period, actor(request), org=org, period=period)
    if result is not None:
        messages.success(request, _("%(n)s plans were released to billing.") % {"n": len(result.released)})
        if result.blocked:
            kept = "; ".join(
                _("%(plan)s: %(n)s exceptions open") % {"plan": plan, "n": n} if n else
                _("%(plan)s: not validated") % {"plan": plan} for plan, n in result.blocked.items())
            messages.warning(request, _("Kept back: %(plans)s") % {"plans": kept})
    return _back_to_list(request, period, org)


@require_POST
@requires(*MANAGE)
def plan_reassign(request, pk):
    plan = scoped_get(selectors.visible_plans(request.user), pk=pk)
    form = ReassignForm(request.POST, orgs=scope_orgs(request.user, MANAGE))
    if form.is_valid():
        data = form.cleaned_data
        if flash(request, plan_services.reassign, actor(request), plan, reader=data["reader"],
               reason=data["reason"]) is not None:
            messages.success(request, _("%(plan)s is now read by %(name)s.") % {
                "plan": plan, "name": data["reader"].full_name if data["reader"] else "—"})
    else:
        messages.error(request, _("Choose the meter reader."))
    return redirect("reading:plan_detail", plan.pk)


@requires(*VIEW)
def plan_detail(request, pk):
    plan = scoped_get(selectors.visible_plans(request.user), pk=pk)
    row = plan_rows(request.user, [plan])[0]
    stops = selectors.walk(plan)
    from_installation = fill_last_reads(plan, stops)
    current = effective_values(s.task.pk for s in stops)
    counts = {row_["task_id"]: row_ for row_ in ReadException.objects.filter(plan=plan).values("task_id").annotate(
        open=Count("id", filter=Q(status=ReadException.Status.OPEN)), total=Count("id"))}
    opened: dict[int, list[str]] = {}
    open_exceptions = list(ReadException.objects.filter(plan=plan, status=ReadException.Status.OPEN)
                           .order_by("task_id", "rule"))
    texts = describe_all(open_exceptions)
    for exc in open_exceptions:
        opened.setdefault(exc.task_id, []).append(texts[exc.pk])
    paged = page(request, [{"stop": s, "exceptions": counts.get(s.task.pk, {"open": 0, "total": 0}),
                            "messages": opened.get(s.task.pk, []), "last": register_rows(s.last, s.task.meter),
                            "current": register_rows(current.get(s.task.pk, {}), s.task.meter),
                            "installed": s.task.pk in from_installation} for s in stops], per_page=100)
    is_open = plan.status == PlanStatus.OPEN
    user = request.user
    can_override = (is_open and row["blocking"] and plan.validated_at is not None
                    and authz.authorize(user, "reading.release_override", plan.org))
    can_reassign = is_open and authz.authorize(user, "reading.manage_routes", plan.org)
    can_import = is_open and authz.authorize(user, "reading.enter", plan.org)
    return render(request, "reading/plan_detail.html", {
        "plan": plan, "row": row, "tally": row["tally"], **paged,
        "override_form": OverrideForm() if can_override else None,
        "reassign_form": ReassignForm(orgs=scope_orgs(user, MANAGE), initial={"reader": plan.reader_id})
        if can_reassign else None,
        "import_form": SheetImportForm() if can_import else None,
    })


@requires(*VIEW)
def plan_sheet_export(request, pk):
    """The reading sheet of the plan as xlsx: the stops in walk order with the last readings, to fill in the field."""
    from ..ingest import sheets

    plan = scoped_get(selectors.visible_plans(request.user), pk=pk)
    response = HttpResponse(sheets.export_sheet(plan), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="reading-sheet-{plan.route.code}-{plan.period:%Y-%m}.xlsx"'
    return response


@require_POST
@requires("reading.enter")
def plan_sheet_import(request, pk):
    """A filled sheet back in: the readings go through the ingest with their tasks; rows that cannot be taken are
    quarantined in the delivery, which the page then shows."""
    from ..ingest import sheets

    plan = scoped_get(selectors.visible_plans(request.user), pk=pk)
    form = SheetImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the filled reading sheet."))
        return redirect("reading:plan_detail", plan.pk)
    upload = form.cleaned_data["file"]
    result = flash(request, sheets.import_sheet, actor(request), plan, upload.read(), file_name=upload.name)
    if result is None:
        return redirect("reading:plan_detail", plan.pk)
    text = _("The sheet was imported: %(read)s stops read, %(unreadable)s not read, %(empty)s rows left empty, "
             "%(quarantined)s rows quarantined.") % {
        "read": result.tasks_read, "unreadable": result.tasks_unreadable, "empty": result.rows_unfilled,
        "quarantined": result.rows_quarantined}
    if result.rows_quarantined:
        messages.warning(request, text)
    else:
        messages.success(request, text)
    if result.batch is not None:
        return redirect("reading:batch_detail", result.batch.pk)
    return redirect("reading:plan_detail", plan.pk)


def my_plans(user, period=None):
    """The open or current-period plans assigned to ``user``."""
    period = period or current_period()
    return (selectors.visible_plans(user).filter(reader=user)
            .filter(Q(period=period) | Q(status=PlanStatus.OPEN)).order_by("-period", "scheduled_on", "route__code"))
