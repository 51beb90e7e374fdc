"""The reader's pages: "my routes" and the phone-sized walk, one stop per screen in route order.

A stop shows what the reader needs at the meter — account, address, meter, the last
readings and the range the total is expected in — and takes the readings of the
registers the meter has, or the reason it could not be read.  Saving validates the
stop at once (the service does) and the next screen says what the validation found
before the reader walks on to the next stop not yet read.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from powercis.core import authz, codelists
from powercis.core.errors import BusinessError, NotFound
from powercis.core.views.common import actor, requires, scoped_get
from powercis.metering.models import REGISTER_LABELS

from .. import selectors
from ..forms import StopForm
from ..models import PlanStatus, ReadException, ReadingTask, Severity, Source, TaskStatus
from ..services import entry
from .explain import describe_all
from .plans import my_plans
from .common import current_period, effective_values, fill_last_reads, place_errors, register_rows, shown

ENTER = ("reading.enter",)


@requires(*ENTER)
def my_routes(request):
    plans = list(my_plans(request.user))
    tallies = selectors.plan_tallies(selectors.visible_plans(request.user).filter(pk__in=[p.pk for p in plans]))
    return render(request, "reading/my_routes.html", {
        "period": current_period(),
        "rows": [(plan, tallies.get(plan.pk, selectors.Tally())) for plan in plans],
    })


def _next_unread(stops, after: int = -1):
    """The first stop not yet read after position ``after``, wrapping round to the start of the walk."""
    order = list(range(after + 1, len(stops))) + list(range(0, after + 1))
    for i in order:
        if stops[i].task.status == TaskStatus.PENDING:
            return stops[i]
    return None


def _plan(request, plan_pk):
    return scoped_get(selectors.visible_plans(request.user).select_related("route", "org"), pk=plan_pk)


@requires(*ENTER)
def walk_start(request, plan_pk):
    plan = _plan(request, plan_pk)
    stops = selectors.walk(plan)
    if not stops:
        messages.info(request, _("The plan has no stops."))
        return redirect("reading:my_routes")
    target = _next_unread(stops) or stops[0]
    return redirect("reading:handheld_stop", plan.pk, target.task.pk)


def _outcome(plan, task_id):
    """What the last save of a stop came to: the task, its readings and its open exceptions in words."""
    task = (ReadingTask.objects.filter(plan=plan, pk=task_id)
            .select_related("account", "metering_point", "meter").first())
    if task is None:
        return None
    found = list(ReadException.objects.filter(task=task, status=ReadException.Status.OPEN).order_by("rule"))
    texts = describe_all(found)
    exceptions = [{"exc": exc, "text": texts[exc.pk]} for exc in found]
    blocking = any(exc.severity == Severity.BLOCK for exc in found)
    verdict = "blocked" if blocking else ("warnings" if found else "passed")
    reads = effective_values([task.pk]).get(task.pk, {})
    return {"task": task, "reads": register_rows(reads, task.meter), "exceptions": exceptions, "verdict": verdict}


def _save(request, plan, task, form):
    """Call the entry service for the submitted action; errors go on the form (``total`` → ``reg_total``)."""
    me = actor(request)
    data = form.cleaned_data
    try:
        if request.POST.get("action") == "unreadable":
            if not data.get("reason_code"):
                form.add_error("reason_code", _("Choose why the meter could not be read."))
                return None
            entry.mark_unreadable(me, task, reason_code=data["reason_code"], photo_ref=data["photo_ref"],
                                  note=data["note"])
            return {"repeated": False, "unreadable": True}
        values = form.values()
        if not values:
            form.add_error(None, _("Enter the readings, or choose why the meter could not be read."))
            return None
        result = entry.record_reads(me, task, values=values, source=Source.HANDHELD, photo_ref=data["photo_ref"])
        return {"repeated": result.repeated, "unreadable": False}
    except NotFound as exc:
        raise Http404 from exc
    except BusinessError as exc:
        place_errors(form, exc, {r: f"reg_{r}" for r in form.registers})
        return None


@requires(*ENTER)
def stop(request, plan_pk, task_pk):
    plan = _plan(request, plan_pk)
    stops = selectors.walk(plan)
    index = next((i for i, s in enumerate(stops) if s.task.pk == task_pk), None)
    if index is None:
        raise Http404
    current = stops[index]
    task = current.task
    installed = bool(fill_last_reads(plan, [current]))
    current.current = effective_values([task.pk]).get(task.pk, {})
    registers = (task.meter.registers or ["total"]) if task.meter_id else []
    decimals = task.meter.decimals if task.meter_id else 2

    def places(register):
        return 4 if register == "demand" else decimals

    reasons = [(code, item.label) for code, item in codelists.codes_of(plan.company_id, "unread_reason").items()]
    can_enter = plan.status == PlanStatus.OPEN and authz.authorize(request.user, "reading.enter", plan.org) \
        and task.meter_id is not None
    # a stop already read shows its readings: saving them again changes nothing and says so
    initial = {f"reg_{r}": shown(v, places(r)) for r, v in current.current.items()}
    initial["photo_ref"] = task.photo_ref
    form = StopForm(request.POST or None, registers=registers, reasons=reasons, auto_id="id_%s", initial=initial)
    if request.method == "POST" and can_enter and form.is_valid():
        saved = _save(request, plan, task, form)
        if saved is not None:
            if saved["repeated"]:
                messages.info(request, _("Already recorded: these readings were saved before, nothing was changed."))
            elif saved["unreadable"]:
                messages.success(request, _("Stop %(n)s recorded as not read.") % {"n": index + 1})
            else:
                messages.success(request, _("Stop %(n)s saved.") % {"n": index + 1})
            following = _next_unread(selectors.walk(plan), index)
            target = following.task.pk if following is not None else task.pk
            return redirect(reverse("reading:handheld_stop", args=[plan.pk, target]) + f"?done={task.pk}")
    done = request.GET.get("done")
    outcome = _outcome(plan, int(done)) if done and done.isdigit() else None
    remaining = sum(1 for s in stops if s.task.status == TaskStatus.PENDING)
    return render(request, "reading/handheld.html", {
        "plan": plan, "stop": current, "task": task, "index": index, "number": index + 1, "count": len(stops),
        "previous": stops[index - 1].task if index > 0 else None,
        "next": stops[index + 1].task if index + 1 < len(stops) else None,
        "last_rows": [(REGISTER_LABELS[r], r, shown(current.last.get(r), places(r)),
                       shown(current.current.get(r), places(r))) for r in form.registers] if registers else [],
        "form": form, "can_enter": can_enter, "outcome": outcome, "remaining": remaining,
        "open_exceptions": list(describe_all(ReadException.objects.filter(
            task=task, status=ReadException.Status.OPEN).order_by("rule")).values())
        if outcome is None or outcome["task"].pk != task.pk else [],
        "reason_label": dict(reasons).get(task.unreadable_reason, task.unreadable_reason),
        "from_installation": installed,
    })
