"""Topology pages: the browser (children load on demand), the area page, the fault worklist, the map and its GeoJSON."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from powercis.core import authz, codelists
from powercis.core.models import Org
from powercis.core.views.common import page, requires, scoped_get
from powercis.customers.selectors import visible_accounts
from powercis.grid import selectors as grid

from . import checks, geojson, selectors
from .forms import FaultFilterForm

VIEW = grid.GRID_PERMS
#: accounts shown when an area node is expanded in the browser; the area page lists them all
NODE_ACCOUNTS = 20


@requires(*VIEW)
def browser(request):
    return render(request, "topology/browser.html", {
        "substations": selectors.substations(request.user),
        "unassigned": selectors.unassigned_counts(request.user),
    })


@requires(*VIEW)
def substation_children(request, pk=None):
    substation = scoped_get(grid.visible_substations(request.user), pk=pk) if pk is not None else None
    return render(request, "topology/_feeders.html", {"feeders": selectors.feeders(request.user, substation)})


@requires(*VIEW)
def feeder_children(request, pk=None):
    feeder = scoped_get(grid.visible_feeders(request.user), pk=pk) if pk is not None else None
    return render(request, "topology/_areas.html", {"areas": selectors.areas(request.user, feeder)})


@requires(*VIEW)
def area_children(request, pk):
    area = scoped_get(grid.visible_areas(request.user), pk=pk)
    rows = selectors.accounts_on_area(request.user, area)
    return render(request, "topology/_accounts.html", {
        "area": area, "points": rows[:NODE_ACCOUNTS], "total": rows.count(), "shown": NODE_ACCOUNTS,
    })


@requires(*VIEW)
def area_detail(request, pk):
    area = scoped_get(grid.visible_areas(request.user), pk=pk)
    return render(request, "topology/area.html", {
        "area": area,
        "feeder_voltage": codelists.label(area.company_id, "voltage_level", area.feeder.voltage_level)
        if area.feeder else "",
        "transformers": area.transformers.order_by("-is_active", "code"),
        "assessment_points": selectors.assessment_points(area),
        "can_edit": authz.authorize(request.user, "grid.edit", area.org),
        **page(request, selectors.accounts_on_area(request.user, area)),
    })


# --- fault worklist -----------------------------------------------------------------


EXPORT_COLUMNS = (
    ("kind", "问题类型 / Fault"), ("object", "对象 / Object"), ("code", "编号 / Code"), ("name", "名称 / Name"),
    ("org", "供电单位 / Org"), ("detail", "说明 / Detail"),
)
#: Excel cannot hold more rows than this on one sheet
XLSX_MAX_ROWS = 1_048_575


def _export_row(row: dict) -> list[str]:
    return [str(checks.FaultKind(row["fault"]).label), checks.object_label(row), row["obj_code"], row["obj_name"],
            row["org_name"], checks.describe(row)]


class _Echo:
    def write(self, value):
        return value


def _csv_stream(rows):
    writer = csv.writer(_Echo())
    # UTF-8 with BOM so that Excel opens the Chinese text correctly.
    yield "\ufeff" + writer.writerow([label for _name, label in EXPORT_COLUMNS])
    for row in rows.iterator(chunk_size=2000):
        yield writer.writerow(_export_row(row))


def _export(rows, fmt: str):
    filename = f"topology-faults-{timezone.localdate().isoformat()}.{fmt}"
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=_("Topology faults")[:31])
        sheet.append([label for _name, label in EXPORT_COLUMNS])
        for row in rows[:XLSX_MAX_ROWS].iterator(chunk_size=2000):
            sheet.append(_export_row(row))
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = StreamingHttpResponse(_csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _orgs_in_scope(user):
    return authz.restrict_any(Org.objects.filter(is_active=True), user, VIEW, path_field="path").order_by("path")


@requires(*VIEW)
def fault_list(request):
    orgs = _orgs_in_scope(request.user)
    form = FaultFilterForm(request.GET or None, orgs=orgs)
    kind, org = (form.cleaned_data.get("kind") or None, form.cleaned_data.get("org")) if form.is_valid() \
        else (None, None)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _export(checks.faults(request.user, [kind] if kind else None, org), fmt)
    rows, counts = checks.worklist(request.user, kind, org)
    paging = page(request, rows)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "topology/faults.html", {
        "form": form, "kind": kind, "org": org,
        "counts": [(k, label, counts[k]) for k, label in checks.FaultKind.choices], "total": sum(counts.values()),
        "rows": [{**row, "label": checks.FaultKind(row["fault"]).label, "object": checks.object_label(row),
                  "url": checks.object_url(row), "detail": checks.describe(row)} for row in paging["page_obj"]],
        "export_query": query.urlencode(), **paging,
    })


# --- map ----------------------------------------------------------------------------


@requires(*VIEW)
def map_page(request):
    #: layers drawn when the page opens; communities and buildings are one click away in the layer control
    shown = {"feeders", "areas", "accounts"}
    extent = geojson.extent(request.user)
    return render(request, "topology/map.html", {"extent": extent, "config": {
        "extent": extent,
        "layers": [{"name": layer, "url": reverse(f"topology:geojson_{layer}"), "on": layer in shown}
                   for layer in geojson.LAYERS],
    }})


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/geo+json" if status == 200 else "application/json"
    return response


@require_GET
@requires(*VIEW)
def layer_geojson(request, layer: str):
    """One map layer as a GeoJSON FeatureCollection, in scope, inside ``?bbox=`` and capped (``truncated``)."""
    try:
        box = geojson.parse_bbox(request.GET.get("bbox"))
    except ValueError as exc:
        return _json({"code": "validation_failed", "message": str(exc), "fields": {"bbox": [str(exc)]}}, 400)
    return _json(geojson.BUILDERS[layer](request.user, box))


@require_GET
@login_required
def account_geojson(request, pk: int):
    """One account for the map on its 360 page: its point, its area outline, the feeder and substation."""
    account = scoped_get(visible_accounts(request.user), pk=pk)
    return _json(geojson.account_map(request.user, account))
