"""Grid pages: list, view, create, edit and (de)activate every kind of grid record, and move an area to a feeder.

All kinds share one set of views driven by :data:`KINDS` (the same anatomy for every
model, so a new kind costs one entry): each entry names the model, its scoped selector,
its FilterSet, its create service and the columns of its list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from powercis.core import authz, codelists
from powercis.core.forms import ReasonForm
from powercis.core.models import Org
from powercis.core.views.common import actor, changed_fields, page, requires, run, scoped_get

from . import filters, selectors, services
from .forms import FORM_FIELDS, AreaMoveForm, GridRecordForm
from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea

VIEW = ("grid.view", "grid.edit")


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable
    link_kind: str = ""  # the value is a record of this kind: link to its page
    table: str = ""  # the value is a code of this code table: show its label


@dataclass(frozen=True)
class Child:
    """Records one level down, listed on the parent's page (``fk`` names the parent field of the child)."""

    kind: str
    fk: str


@dataclass(frozen=True)
class Kind:
    key: str
    slug: str
    model: type
    selector: Callable
    filterset: type
    create: Callable
    columns: tuple[Column, ...]
    children: tuple[Child, ...] = ()
    #: filters that narrow the list to one parent record: query parameter → kind of that record
    parent_filters: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def label_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def names(self) -> dict[str, str]:
        """URL names of the kind's pages, for ``{% url kind.names.detail pk %}``."""
        return {action: f"grid:{self.key}_{action}" for action in ("list", "create", "detail", "edit", "set_active")}

    def url(self, action: str, *args) -> str:
        return reverse(self.names[action], args=args)


def _voltage(obj) -> str:
    return codelists.label(obj.company_id, "voltage_level", obj.voltage_level)


class CodeLabels(dict):
    """Labels of code-table items, read once per company and table for a whole page (not once per row)."""

    def of(self, company_id: int, table: str, code: str) -> str:
        key = (company_id, table)
        if key not in self:
            self[key] = {c: item.label for c, item in codelists.codes_of(company_id, table, active_only=False).items()}
        return self[key].get(code, code)


def _active(obj) -> str:
    return _("Active") if obj.is_active else _("Deactivated")


NAME = Column(gettext_lazy("Name"), lambda o: o.name)
ORG = Column(gettext_lazy("Org"), lambda o: o.org.name)
ACTIVE = Column(gettext_lazy("Status"), _active)
VOLTAGE = Column(gettext_lazy("Voltage level"), lambda o: o.voltage_level, table="voltage_level")

KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("substation", "substations", Substation, selectors.visible_substations, filters.SubstationFilter,
         services.create_substation, (NAME, VOLTAGE, ORG, ACTIVE), children=(Child("feeder", "substation"),)),
    Kind("feeder", "feeders", Feeder, selectors.visible_feeders, filters.FeederFilter, services.create_feeder,
         (NAME, VOLTAGE, Column(gettext_lazy("Substation"), lambda o: o.substation, "substation"), ORG, ACTIVE),
         children=(Child("area", "feeder"),), parent_filters={"substation": "substation"}),
    Kind("area", "areas", TransformerArea, selectors.visible_areas, filters.AreaFilter, services.create_area,
         (NAME, Column(gettext_lazy("Ownership"), lambda o: o.get_ownership_display()),
          Column(gettext_lazy("Capacity (kVA)"), lambda o: o.capacity_kva),
          Column(gettext_lazy("Feeder"), lambda o: o.feeder, "feeder"), ORG, ACTIVE),
         children=(Child("transformer", "area"),), parent_filters={"feeder": "feeder", "substation": "substation"}),
    Kind("transformer", "transformers", Transformer, selectors.visible_transformers, filters.TransformerFilter,
         services.create_transformer,
         (Column(gettext_lazy("Model"), lambda o: o.model_name), Column(gettext_lazy("Capacity (kVA)"),
                                                                       lambda o: o.capacity_kva),
          Column(gettext_lazy("Transformer area"), lambda o: o.area, "area"), ORG, ACTIVE),
         parent_filters={"area": "area"}),
    Kind("community", "communities", Community, selectors.visible_communities, filters.CommunityFilter,
         services.create_community, (NAME, Column(gettext_lazy("Address"), lambda o: o.address), ORG, ACTIVE),
         children=(Child("building", "community"),)),
    Kind("building", "buildings", Building, selectors.visible_buildings, filters.BuildingFilter,
         services.create_building,
         (NAME, Column(gettext_lazy("Community"), lambda o: o.community, "community"), ORG, ACTIVE),
         parent_filters={"community": "community"}),
)}


def _cells(kind: Kind, obj, labels: CodeLabels) -> list[tuple]:
    """(text, url) per column; url is set when the cell is another grid record."""
    cells = []
    for column in kind.columns:
        value = column.value(obj)
        if column.table:
            value = labels.of(obj.company_id, column.table, value)
        url = KINDS[column.link_kind].url("detail", value.pk) if column.link_kind and value is not None else ""
        cells.append((value if value not in (None, "") else "—", url))
    return cells


def _parent_badges(request, kind: Kind) -> list[tuple[str, str, str]]:
    """The parent records the list is narrowed to: (label, record, the list URL without that filter)."""
    badges = []
    for param, parent_key in kind.parent_filters.items():
        value = request.GET.get(param, "")
        if not value.isdigit():
            continue
        parent_kind = KINDS[parent_key]
        parent = parent_kind.selector(request.user).filter(pk=value).first()
        query = request.GET.copy()
        query.pop(param)
        query.pop("page", None)
        badges.append((parent_kind.label, str(parent) if parent else value,
                       f"{kind.url('list')}?{query.urlencode()}"))
    return badges


@requires(*VIEW)
def record_list(request, kind: str):
    kind = KINDS[kind]
    filterset = kind.filterset(request.GET or None, queryset=kind.selector(request.user))
    records = filterset.qs if filterset.is_bound and filterset.is_valid() else kind.selector(request.user)
    if filterset.is_bound and not filterset.is_valid():
        messages.error(request, _("The filter is not valid and was ignored."))
    paging = page(request, records.order_by("code"))
    labels = CodeLabels()
    return render(request, "grid/record_list.html", {
        "kind": kind, "columns": kind.columns,
        "rows": [(obj, _cells(kind, obj, labels)) for obj in paging["page_obj"]],
        "orgs": authz.restrict_any(Org.objects.filter(is_active=True), request.user, VIEW, path_field="path")
        .order_by("path"),
        "selected_org": request.GET.get("org", ""), "active": request.GET.get("is_active", ""),
        "q": request.GET.get("q", ""), "badges": _parent_badges(request, kind),
        "can_create": authz.authorize(request.user, "grid.edit"), **paging,
    })


def _display(obj, name: str):
    """A field's value as the detail page shows it: labels for codes and choices, a summary for shapes."""
    value = getattr(obj, name)
    if name == "voltage_level":
        return _voltage(obj)
    if name == "geometry":
        if not value:
            return "—"
        return _("%(type)s (GeoJSON)") % {"type": value.get("type", "?")}
    display = getattr(obj, f"get_{name}_display", None)
    if display is not None:
        return display()
    return "—" if value in (None, "") else value


@requires(*VIEW)
def record_detail(request, kind: str, pk: int):
    kind = KINDS[kind]
    obj = scoped_get(kind.selector(request.user), pk=pk)
    fields = []
    for name in FORM_FIELDS[kind.model]:
        value = obj.org.name if name == "org" else _display(obj, name)
        link = KINDS[name].url("detail", value.pk) if name in KINDS and value != "—" else ""
        fields.append((kind.model._meta.get_field(name).verbose_name, value, link))
    children, labels = [], CodeLabels()
    for child in kind.children:
        child_kind = KINDS[child.kind]
        rows = child_kind.selector(request.user).filter(**{child.fk: obj}).order_by("code")
        query = f"?{child.fk}={obj.pk}"
        children.append((child_kind, [(c, _cells(child_kind, c, labels)) for c in rows[:50]], rows.count(),
                         child_kind.url("list") + query, child_kind.url("create") + query))
    can_edit = authz.authorize(request.user, "grid.edit", obj.org)
    return render(request, "grid/record_detail.html", {
        "kind": kind, "obj": obj, "fields": fields, "children": children, "can_edit": can_edit,
        "reason_form": ReasonForm(),
    })


@requires("grid.edit")
def record_create(request, kind: str):
    kind = KINDS[kind]
    initial = {param: request.GET[param] for param in kind.parent_filters
               if request.GET.get(param, "").isdigit()}
    form = GridRecordForm(request.POST or None, user=request.user, model=kind.model, creating=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        obj = run(request, form, kind.create, actor(request), reason=form.cleaned_data["reason"], **values)
        if obj is not None:
            messages.success(request, _("%(kind)s %(name)s was created.") % {"kind": kind.label, "name": obj})
            return redirect(kind.url("detail", obj.pk))
    return render(request, "grid/record_form.html", {
        "kind": kind, "form": form, "title": _("New %(kind)s") % {"kind": kind.label}, "cancel": kind.url("list"),
    })


@requires("grid.edit")
def record_edit(request, kind: str, pk: int):
    kind = KINDS[kind]
    obj = scoped_get(selectors.editable(kind.selector(request.user), request.user), pk=pk)
    form_probe = GridRecordForm(user=request.user, model=kind.model, creating=False)
    initial = {name: getattr(obj, name) for name in form_probe.fields if name != "reason"}
    form = GridRecordForm(request.POST or None, user=request.user, model=kind.model, creating=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = changed_fields(form.service_values(), initial)
        done = run(request, form, services.update_record, actor(request), obj, reason=form.cleaned_data["reason"],
                   **changes)
        if done is not None:
            messages.success(request, _("The changes were saved."))
            return redirect(kind.url("detail", obj.pk))
    return render(request, "grid/record_form.html", {
        "kind": kind, "form": form, "obj": obj, "title": _("Edit %(name)s") % {"name": obj},
        "cancel": kind.url("detail", obj.pk),
    })


@require_POST
@requires("grid.edit")
def record_set_active(request, kind: str, pk: int):
    kind = KINDS[kind]
    obj = scoped_get(selectors.editable(kind.selector(request.user), request.user), pk=pk)
    form = ReasonForm(request.POST)
    active = request.POST.get("active") == "1"
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
    elif run(request, None, services.set_active, actor(request), obj, active,
             reason=form.cleaned_data["reason"]) is not None:
        messages.success(request, _("The record was activated.") if active else _("The record was deactivated."))
    return redirect(kind.url("detail", obj.pk))


@requires("grid.edit")
def area_move(request, pk: int):
    area = scoped_get(selectors.editable(selectors.visible_areas(request.user), request.user), pk=pk)
    form = AreaMoveForm(request.POST or None, user=request.user, area=area)
    if request.method == "POST" and form.is_valid():
        done = run(request, form, services.move_area, actor(request), area, form.cleaned_data["feeder"],
                   reason=form.cleaned_data["reason"])
        if done is not None:
            messages.success(request, _("The transformer area now hangs on the new feeder."))
            return redirect("grid:area_detail", area.pk)
    return render(request, "grid/record_form.html", {
        "kind": KINDS["area"], "form": form, "obj": area, "cancel": KINDS["area"].url("detail", area.pk),
        "title": _("Move %(name)s to another feeder") % {"name": area},
    })
