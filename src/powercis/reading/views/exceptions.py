"""The exception worklist (数据审核): why each read was flagged, and confirm / correct / re-read / estimate.

Reviewers (``reading.review``) see every exception in their scope; a reader sees the
ones on the plans they walk.  Each row says why in words (``explain.describe``), and
the actions are the services of ``services.exceptions``; a row offers only what the
service would accept from this user on this plan.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from powercis.core import authz
from powercis.core.errors import BusinessError
from powercis.core.views.common import actor, page, requires, run, scoped_get

from .. import selectors
from ..forms import CorrectForm, ExceptionFilterForm, NoteForm, ReasonForm, active_staff
from ..models import PlanStatus, ReadException, RegisterRead, Source
from ..services import exceptions as exc_services
from .common import (
    VIEW,
    fill_last_reads,
    parse_period,
    place_errors,
    register_rows,
    scope_orgs,
    shown,
    within,
)
from .explain import describe, describe_all

ACTIONS = ("confirm", "correct", "reread", "estimate")


def worklist(user):
    """The exceptions the user works or follows: all in scope for reviewers, those of their own plans for readers."""
    queryset = selectors.visible_exceptions(user).select_related("task__meter", "plan__org")
    if authz.authorize(user, "reading.review"):
        return queryset
    if authz.authorize(user, "reading.enter"):
        return queryset.filter(plan__reader=user)
    return queryset


def can_act(user, exc) -> bool:
    return (exc.status == ReadException.Status.OPEN and exc.plan.status == PlanStatus.OPEN
            and authz.authorize(user, "reading.review", exc.plan.org))


def estimate_method(exc) -> str:
    """The method text of the estimate that resolved ``exc`` (the estimate read's note after the reason)."""
    note = (RegisterRead.objects.filter(task_id=exc.task_id, source=Source.ESTIMATE).order_by("-id")
            .values_list("note", flat=True).first()) or ""
    return note.split(" — ", 1)[1] if " — " in note else note


def _registers(exc) -> list[str]:
    meter = exc.task.meter
    return (meter.registers or ["total"]) if meter is not None else []


def _row(user, exc, text: str) -> dict:
    return {"exc": exc, "text": text, "can_act": can_act(user, exc),
            "correct_form": CorrectForm(registers=_registers(exc), auto_id=f"c{exc.pk}_%s")
            if can_act(user, exc) and exc.task.meter_id else None,
            "method": estimate_method(exc) if exc.resolution == "estimated" else ""}


@requires(*VIEW)
def exception_list(request):
    orgs = scope_orgs(request.user)
    data = request.GET.copy()
    data.setdefault("status", ReadException.Status.OPEN)
    form = ExceptionFilterForm(data, orgs=orgs, readers=active_staff(list(orgs)))
    rows = worklist(request.user)
    status = ReadException.Status.OPEN
    if form.is_valid():
        f = form.cleaned_data
        status = f.get("status") or ReadException.Status.OPEN
        if f.get("period"):
            rows = rows.filter(plan__period=parse_period(f["period"]))
        rows = within(rows, f.get("org"))
        if f.get("route"):
            rows = rows.filter(plan__route__code=f["route"])
        if f.get("reader"):
            rows = rows.filter(plan__reader=f["reader"])
        if f.get("rule"):
            rows = rows.filter(rule=f["rule"])
        if f.get("severity"):
            rows = rows.filter(severity=f["severity"])
    if status != "all":
        rows = rows.filter(status=status)
    rows = rows.order_by("plan__period", "plan__route__code", "task__seq", "rule", "pk")
    paged = page(request, rows)
    texts = describe_all(paged["page_obj"])
    items = [_row(request.user, exc, texts[exc.pk]) for exc in paged["page_obj"]]
    return render(request, "reading/exception_list.html", {
        "form": form, "rows": items, "status": status, "any_actionable": any(r["can_act"] for r in items),
        "here": request.get_full_path(), **paged,
    })


def _back(request, default: str):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


@requires(*VIEW)
def exception_detail(request, pk, forms_=None):
    exc = scoped_get(worklist(request.user), pk=pk)
    task = exc.task
    stops = {s.task.pk: s for s in selectors.walk(exc.plan)}
    stop = stops.get(task.pk)
    acting = can_act(request.user, exc)
    forms_ = forms_ or {}
    return render(request, "reading/exception_detail.html", {
        "exc": exc, "text": describe(exc), "task": task, "stop": stop, "can_act": acting,
        "read_rows": _read_rows(exc.plan, task, stop),
        "others": [{"exc": o, "text": describe(o)} for o in
                   ReadException.objects.filter(task=task).exclude(pk=exc.pk).order_by("status", "rule")],
        "confirm_form": forms_.get("confirm") or NoteForm(auto_id="confirm_%s") if acting else None,
        "correct_form": forms_.get("correct") or CorrectForm(registers=_registers(exc), auto_id="correct_%s")
        if acting and task.meter_id else None,
        "reread_form": forms_.get("reread") or NoteForm(auto_id="reread_%s") if acting else None,
        "estimate_form": forms_.get("estimate") or ReasonForm(auto_id="estimate_%s") if acting else None,
        "method": estimate_method(exc) if exc.resolution == "estimated" else "",
        "next": request.GET.get("next", ""),
    })


def _read_rows(plan, task, stop) -> list[dict]:
    """The task's readings beside the last ones, as the meter displays them."""
    if stop is not None:
        fill_last_reads(plan, [stop])
    chosen = selectors.effective_read_ids(task)
    by_id = RegisterRead.objects.in_bulk(set(chosen.values()))
    # register → the read the validation takes it from (one read, usually, carrying every register)
    reads = {r: by_id[read_id] for r, read_id in chosen.items()
             if read_id in by_id and getattr(by_id[read_id], r, None) is not None}
    decimals = task.meter.decimals if task.meter_id else 2
    rows = []
    for register, label, value in register_rows({r: getattr(read, r) for r, read in reads.items()}, task.meter):
        places = 4 if register == "demand" else decimals
        rows.append({"register": register, "label": label, "value": value, "read": reads[register],
                     "last": shown(stop.last.get(register), places) if stop is not None else ""})
    return rows


@require_POST
@requires("reading.review")
def exception_act(request, pk, action):
    exc = scoped_get(worklist(request.user), pk=pk)
    if action not in ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("reading:exception_detail", exc.pk)
    me = actor(request)
    label = str(exc.get_rule_display())
    if action == "confirm":
        form = NoteForm(request.POST, auto_id="confirm_%s")
        if form.is_valid() and run(request, form, exc_services.confirm, me, exc, note=form.cleaned_data["note"]):
            messages.success(request, _("Confirmed: %(check)s.") % {"check": label})
            return _back(request, reverse("reading:exception_list"))
    elif action == "correct":
        form = CorrectForm(request.POST, registers=_registers(exc), auto_id="correct_%s")
        if form.is_valid():
            values = form.values()
            if not values:
                form.add_error(None, _("Enter at least one corrected reading."))
            else:
                done = _correct(request, form, me, exc, values, form.cleaned_data["reason"])
                if done is not None:
                    messages.success(request, _("Corrected: %(values)s.") % {
                        "values": ", ".join(f"{k} {v}" for k, v in values.items())})
                    return _back(request, reverse("reading:exception_list"))
    elif action == "reread":
        form = NoteForm(request.POST, auto_id="reread_%s")
        order = run(request, form, exc_services.order_reread, me, exc, note=form.data.get("note", "")) \
            if form.is_valid() else None
        if order is not None:
            messages.success(request, _("Re-read ordered: work order %(no)s for %(name)s.") % {
                "no": order.number, "name": order.assignee.full_name if order.assignee else "—"})
            return _back(request, reverse("reading:exception_list"))
    else:
        form = ReasonForm(request.POST, auto_id="estimate_%s")
        if form.is_valid() and run(request, form, exc_services.estimate, me, exc,
                                   reason=form.cleaned_data["reason"]) is not None:
            exc.refresh_from_db()
            messages.success(request, _("Estimated by: %(method)s") % {"method": estimate_method(exc)})
            return _back(request, reverse("reading:exception_list"))
    return exception_detail(request, exc.pk, forms_={action: form})


def _correct(request, form, me, exc, values, reason):
    """Correct; the service names register fields by register code, the form by ``reg_<code>``."""
    try:
        return exc_services.correct(me, exc, values=values, reason=reason)
    except BusinessError as err:
        place_errors(form, err, {r: f"reg_{r}" for r in form.registers})
        return None


@require_POST
@requires("reading.review")
def exception_confirm_many(request):
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    chosen = list(worklist(request.user).filter(pk__in=ids, status=ReadException.Status.OPEN))
    if not chosen:
        messages.error(request, _("Select the exceptions to confirm."))
        return _back(request, reverse("reading:exception_list"))
    note = (request.POST.get("note") or "").strip()
    try:
        with transaction.atomic():
            n = exc_services.confirm_many(actor(request), chosen, note=note)
    except BusinessError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(request, _("%(n)s exceptions were confirmed.") % {"n": n})
    return _back(request, reverse("reading:exception_list"))
