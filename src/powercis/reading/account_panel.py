"""Reading's section of the account 360 page: the account's recent reading tasks, their readings and exceptions."""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from powercis.customers.panels import Panel, register

from .models import ReadException, ReadingTask, RegisterRead
from .selectors import VIEW_PERMS
from .views.common import register_rows
from .views.explain import describe_all

#: reading tasks shown (the latest periods first)
RECENT = 12


def _context(request, account):
    from .engine.validate import effective_reads_of_tasks

    tasks = list(ReadingTask.objects.filter(account=account)
                 .select_related("plan", "plan__route", "meter", "metering_point", "read_by")
                 .order_by("-plan__period", "metering_point__code")[:RECENT])
    ids = [t.pk for t in tasks]
    # the readings the validation stands on: entered for the task, or collected for a remote route
    reads: dict[int, dict[str, RegisterRead]] = defaultdict(dict)
    effective = effective_reads_of_tasks(ids) if ids else None
    if effective is not None and effective.height:
        by_id = RegisterRead.objects.in_bulk(effective["read_id"].to_list())
        for task_id, read_id in effective.select("task_id", "read_id").iter_rows():
            if read_id in by_id:
                reads[task_id][by_id[read_id].register] = by_id[read_id]
    exceptions: dict[int, list] = defaultdict(list)
    found = list(ReadException.objects.filter(task_id__in=ids).select_related("resolved_by").order_by("status", "rule"))
    texts = describe_all(found)
    for exc in found:
        exceptions[exc.task_id].append({"exc": exc, "text": texts[exc.pk]})
    return {"rows": [{"task": t, "reads": _shown(reads[t.pk], t.meter), "exceptions": exceptions[t.pk]} for t in tasks]}


def _shown(reads: dict[str, RegisterRead], meter) -> list[dict]:
    """The task's readings in register order, as the meter displays them."""
    rows = register_rows({register: read.value for register, read in reads.items()}, meter)
    return [{"register": register, "label": label, "value": value, "estimated": reads[register].estimated,
             "revision": reads[register].revision} for register, label, value in rows]


def register_panel() -> None:
    register(Panel("reading", _("Reads"), "reading/panels/reads.html", 40, _context, VIEW_PERMS))
