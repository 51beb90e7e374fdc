"""Code tables (数据字典): the tables of the user's companies, their items, add and edit items."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .. import selectors
from ..forms import CodeItemForm
from ..models import CodeItem, CodeTable
from ..services import codes as code_services
from .common import actor, changed_fields, requires, run, scoped_get


def _tables(user):
    companies = selectors.companies_of(user, "core.manage_codes")
    return CodeTable.objects.filter(company__in=companies).select_related("company")


@requires("core.manage_codes")
def code_tables(request):
    tables = _tables(request.user).annotate(item_count=Count("items")).order_by("company__code", "code")
    return render(request, "core/code_tables.html", {"tables": tables})


@requires("core.manage_codes")
def code_table_detail(request, pk):
    table = scoped_get(_tables(request.user), pk=pk)
    form = CodeItemForm(request.POST or None, initial={"sort_order": (table.items.count() + 1) * 10})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("is_active")
        item = run(request, form, code_services.add_item, actor(request), table, **data)
        if item is not None:
            messages.success(request, _("Code %(code)s was added.") % {"code": item.code})
            return redirect("core:code_table_detail", table.pk)
    return render(request, "core/code_table_detail.html", {
        "table": table, "items": table.items.order_by("sort_order", "code"), "form": form,
    })


@requires("core.manage_codes")
def code_item_edit(request, pk):
    item = scoped_get(CodeItem.objects.filter(table__in=_tables(request.user)).select_related("table"), pk=pk)
    initial = {f: getattr(item, f) for f in ("code", "label_zh", "label_en", "parent_code", "sort_order", "is_active")}
    form = CodeItemForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        changes = changed_fields(data, initial, skip=("code",))
        if run(request, form, code_services.update_item, actor(request), item, reason=reason, **changes) is not None:
            messages.success(request, _("Code %(code)s was saved.") % {"code": item.code})
            return redirect("core:code_table_detail", item.table_id)
    return render(request, "core/code_item_form.html", {"item": item, "form": form})
