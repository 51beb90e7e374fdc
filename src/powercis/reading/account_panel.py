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
    # the readings the validation stands on: entered for the task, or collected for a remote route;
    # task → read → register → value (the registers the validation takes from that read)
    chosen: dict[int, dict[int, dict]] = defaultdict(dict)
    effective = effective_reads_of_tasks(ids) if ids else None
    by_id = {}
    if effective is not None and effective.height:
        by_id = RegisterRead.objects.in_bulk(effective["read_id"].unique().to_list())
        for task_id, read_id, code, value in effective.select("task_id", "read_id", "register", "value").iter_rows():
            if read_id in by_id:
                chosen[task_id].setdefault(read_id, {})[code] = value
    exceptions: dict[int, list] = defaultdict(list)
    found = list(ReadException.objects.filter(task_id__in=ids).select_related("resolved_by").order_by("status", "rule"))
    texts = describe_all(found)
    for exc in found:
        exceptions[exc.task_id].append({"exc": exc, "text": texts[exc.pk]})
    return {"rows": [{"task": t, "reads": _shown(chosen[t.pk], by_id, t.meter), "exceptions": exceptions[t.pk]}
                     for t in tasks]}


def _shown(chosen: dict[int, dict], by_id: dict[int, RegisterRead], meter) -> list[dict]:
    """The task's reads (usually one), each with its readings in register order as the meter displays them."""
    reads = sorted((by_id[read_id] for read_id in chosen), key=lambda r: (r.read_at, r.revision, r.pk))
    return [{"read": read, "registers": [{"register": code, "label": label, "value": value}
                                         for code, label, value in register_rows(chosen[read.pk], meter)],
             "estimated": read.estimated, "revision": read.revision} for read in reads]


def register_panel() -> None:
    register(Panel("reading", _("Reads"), "reading/panels/reads.html", 40, _context, VIEW_PERMS))
