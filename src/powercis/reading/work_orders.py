"""The work orders meter reading raises (re-reads, on-site checks): who sees and closes them, and where they came from.

Registered with ``core.workorders`` when the app starts.  Everyone who works on reading
in an org sees its orders; a reviewer (``reading.review``) completes or cancels an order
of someone else — the reviewer is who orders re-reads from the exception worklist, and
the reader it is assigned to closes it by recording the re-read.  An order points at its
task (``reading.task:<id>``); the links lead to the exceptions it was raised for and to
the task's plan, as far as the user's scope reaches.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from powercis.core.models import WorkOrder
from powercis.core.workorders import SourceLink, WorkOrderKind, register_kind, register_source

from . import selectors


def task_links(user, order, ident: str) -> list[SourceLink]:
    """The reading exceptions of the order's task and the plan of its task, those the user may open."""
    try:
        task_id = int(ident)
    except ValueError:
        return []
    links = []
    for exc in selectors.visible_exceptions(user).filter(task_id=task_id).order_by("pk"):
        links.append(SourceLink(_("Reading exception: %(check)s (%(status)s)") % {
            "check": exc.get_rule_display(), "status": exc.get_status_display()},
            reverse("reading:exception_detail", args=[exc.pk])))
    task = selectors.visible_tasks(user).select_related("plan__route").filter(pk=task_id).first()
    if task is not None:
        links.append(SourceLink(_("Reading plan %(route)s %(period)s") % {
            "route": task.plan.route.code, "period": f"{task.plan.period:%Y-%m}"},
            reverse("reading:plan_detail", args=[task.plan_id])))
    return links


def register_work_orders() -> None:
    for code in (WorkOrder.Kind.REREAD, WorkOrder.Kind.FIELD_CHECK):
        register_kind(WorkOrderKind(code=code, view_permissions=selectors.VIEW_PERMS,
                                    close_permission="reading.review"))
    register_source("reading.task", task_links)
