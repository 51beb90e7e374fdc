"""Topology fault check (线路—台区—用户 consistency, domain/metering-audit.md §3.3): set-based, one query per fault kind.

Each check is one SQL query over the whole population in the user's scope; the worklist
is their UNION, ordered and paginated in the database, so the page and the export cost
the same at ten accounts or a million.  Every row has the same columns: the fault kind,
the object at fault (id, code, name, org) and ``ref``, the one fact its message needs
(the metering point, the inactive feeder, the number of assessment points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from powercis.core import authz
from powercis.core.models import Org
from powercis.customers.models import AccountStatus
from powercis.grid.models import Feeder, TransformerArea
from powercis.grid.selectors import GRID_PERMS
from powercis.metering.models import MeteringPoint, MeterInstallation

from .links import account_url

COLUMNS = ("fault", "obj_id", "obj_code", "obj_name", "org_name", "ref")


class FaultKind(models.TextChoices):
    ACCOUNT_WITHOUT_AREA = "account_without_area", gettext_lazy("Account without transformer area")
    AREA_WITHOUT_ASSESSMENT_POINT = "area_without_assessment_point", gettext_lazy(
        "Area without assessment metering point")
    AREA_SEVERAL_ASSESSMENT_POINTS = "area_several_assessment_points", gettext_lazy(
        "Area with several assessment metering points")
    AREA_WITHOUT_FEEDER = "area_without_feeder", gettext_lazy("Area without a feeder in service")
    FEEDER_WITHOUT_SUBSTATION = "feeder_without_substation", gettext_lazy("Feeder without a substation in service")
    ASSESSMENT_POINT_WITHOUT_METER = "assessment_point_without_meter", gettext_lazy(
        "Assessment metering point without a meter")


def _text(expression) -> Cast:
    return Cast(expression, output_field=CharField())


def _rows(queryset: QuerySet, kind: str, *, obj_id, code, name, org_name, ref) -> QuerySet:
    """The queryset as worklist rows: the same six columns, in the same order, for every kind."""
    return queryset.order_by().annotate(
        fault=Value(kind, output_field=CharField()), obj_id=obj_id, obj_code=_text(code), obj_name=_text(name),
        org_name=_text(org_name), ref=_text(ref),
    ).values(*COLUMNS)


def _active_assessment_points() -> QuerySet:
    return MeteringPoint.objects.filter(kind=MeteringPoint.Kind.ASSESSMENT, is_active=True,
                                        transformer_area__isnull=False)


def _areas_with_points(minimum: int) -> QuerySet:
    """Ids of the areas with at least ``minimum`` active assessment points.

    Grouped once over the assessment points (a few per thousand metering points) rather than
    probed per area: an area's index entries are mostly its hundreds of settlement points.
    """
    grouped = _active_assessment_points().order_by().values("transformer_area")
    if minimum > 1:
        grouped = grouped.annotate(n=Count("pk")).filter(n__gte=minimum)
    return grouped.values("transformer_area")


def _accounts_without_area() -> QuerySet:
    points = (MeteringPoint.objects.filter(kind=MeteringPoint.Kind.SETTLEMENT, is_active=True,
                                           transformer_area__isnull=True, account__isnull=False)
              .exclude(account__status=AccountStatus.CLOSED))
    return _rows(points, FaultKind.ACCOUNT_WITHOUT_AREA, obj_id=F("account_id"), code=F("account__account_no"),
                 name=F("account__name"), org_name=F("account__org__name"), ref=F("code"))


def _areas_without_assessment_point() -> QuerySet:
    areas = TransformerArea.objects.filter(is_active=True).exclude(pk__in=_areas_with_points(1))
    return _rows(areas, FaultKind.AREA_WITHOUT_ASSESSMENT_POINT, obj_id=F("pk"), code=F("code"), name=F("name"),
                 org_name=F("org__name"), ref=Value(""))


def _areas_with_several_assessment_points() -> QuerySet:
    count = (_active_assessment_points().filter(transformer_area=OuterRef("pk")).order_by()
             .values("transformer_area").annotate(n=Count("pk")).values("n"))
    areas = TransformerArea.objects.filter(is_active=True, pk__in=_areas_with_points(2))
    return _rows(areas, FaultKind.AREA_SEVERAL_ASSESSMENT_POINTS, obj_id=F("pk"), code=F("code"), name=F("name"),
                 org_name=F("org__name"), ref=Subquery(count))


def _areas_without_feeder() -> QuerySet:
    areas = TransformerArea.objects.filter(is_active=True).filter(Q(feeder__isnull=True) | Q(feeder__is_active=False))
    return _rows(areas, FaultKind.AREA_WITHOUT_FEEDER, obj_id=F("pk"), code=F("code"), name=F("name"),
                 org_name=F("org__name"), ref=Coalesce(F("feeder__code"), Value("")))


def _feeders_without_substation() -> QuerySet:
    feeders = Feeder.objects.filter(is_active=True).filter(Q(substation__isnull=True)
                                                          | Q(substation__is_active=False))
    return _rows(feeders, FaultKind.FEEDER_WITHOUT_SUBSTATION, obj_id=F("pk"), code=F("code"), name=F("name"),
                 org_name=F("org__name"), ref=Coalesce(F("substation__code"), Value("")))


def _assessment_points_without_meter() -> QuerySet:
    installed = Exists(MeterInstallation.objects.filter(metering_point=OuterRef("pk"), removed_on__isnull=True))
    points = _active_assessment_points().filter(~installed)
    return _rows(points, FaultKind.ASSESSMENT_POINT_WITHOUT_METER, obj_id=F("transformer_area_id"),
                 code=F("transformer_area__code"), name=F("transformer_area__name"),
                 org_name=F("transformer_area__org__name"), ref=F("code"))


@dataclass(frozen=True)
class Check:
    kind: str
    rows: Callable[[], QuerySet]
    #: the org path of the object at fault: data scope and the org filter apply to it
    path_field: str


CHECKS: dict[str, Check] = {c.kind: c for c in (
    Check(FaultKind.ACCOUNT_WITHOUT_AREA, _accounts_without_area, "account__org_path"),
    Check(FaultKind.AREA_WITHOUT_ASSESSMENT_POINT, _areas_without_assessment_point, "org_path"),
    Check(FaultKind.AREA_SEVERAL_ASSESSMENT_POINTS, _areas_with_several_assessment_points, "org_path"),
    Check(FaultKind.AREA_WITHOUT_FEEDER, _areas_without_feeder, "org_path"),
    Check(FaultKind.FEEDER_WITHOUT_SUBSTATION, _feeders_without_substation, "org_path"),
    Check(FaultKind.ASSESSMENT_POINT_WITHOUT_METER, _assessment_points_without_meter, "transformer_area__org_path"),
)}


def _scoped(check: Check, user, org: Org | None) -> QuerySet:
    rows = authz.restrict_any(check.rows(), user, GRID_PERMS, path_field=check.path_field)
    if org is not None:
        rows = rows.filter(**{f"{check.path_field}__startswith": org.path})
    return rows


def faults(user, kinds=None, org: Org | None = None) -> QuerySet:
    """The worklist: one row (a dict of :data:`COLUMNS`) per fault in the user's scope, by kind and code."""
    selected = [CHECKS[k] for k in (kinds or CHECKS)]
    parts = [_scoped(check, user, org) for check in selected]
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return rows.order_by("fault", "obj_code", "ref")


def fault_counts(user, org: Org | None = None) -> dict[str, int]:
    """How many faults of each kind the user's scope (below ``org``) holds; one COUNT per kind."""
    return {kind: _scoped(check, user, org).count() for kind, check in CHECKS.items()}


class CountedRows:
    """Worklist rows whose total is already known from :func:`fault_counts`, for a paginator.

    Paginating the UNION would count it once more; the counts per kind are computed for the
    page anyway, and their sum is the same number.
    """

    def __init__(self, rows: QuerySet, total: int):
        self.rows, self.total = rows, total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, index):
        return self.rows[index]


def worklist(user, kind: str | None = None, org: Org | None = None) -> tuple[CountedRows, dict[str, int]]:
    """The worklist rows (of one kind, or all) ready to paginate, and the counts of every kind."""
    counts = fault_counts(user, org)
    rows = faults(user, [kind] if kind else None, org)
    return CountedRows(rows, counts[kind] if kind else sum(counts.values())), counts


def describe(row: dict) -> str:
    """What is wrong, in the user's language, from a worklist row."""
    kind, ref = row["fault"], row["ref"] or ""
    if kind == FaultKind.ACCOUNT_WITHOUT_AREA:
        return _("Settlement metering point %(point)s hangs on no transformer area.") % {"point": ref}
    if kind == FaultKind.AREA_WITHOUT_ASSESSMENT_POINT:
        return _("No assessment metering point (台区总表) in service is recorded for the area.")
    if kind == FaultKind.AREA_SEVERAL_ASSESSMENT_POINTS:
        return _("%(n)s assessment metering points are in service; an area has exactly one.") % {"n": ref}
    if kind == FaultKind.AREA_WITHOUT_FEEDER:
        return (_("Its feeder %(feeder)s is out of service.") % {"feeder": ref} if ref
                else _("The area hangs on no feeder."))
    if kind == FaultKind.FEEDER_WITHOUT_SUBSTATION:
        return (_("Its substation %(substation)s is out of service.") % {"substation": ref} if ref
                else _("The feeder leaves no recorded substation."))
    return _("Assessment metering point %(point)s has no meter installed.") % {"point": ref}


def object_url(row: dict) -> str:
    kind = row["fault"]
    if kind == FaultKind.ACCOUNT_WITHOUT_AREA:
        return account_url(row["obj_id"])
    if kind == FaultKind.FEEDER_WITHOUT_SUBSTATION:
        return reverse("grid:feeder_detail", args=[row["obj_id"]])
    return reverse("topology:area", args=[row["obj_id"]])


def object_label(row: dict) -> str:
    kind = row["fault"]
    if kind == FaultKind.ACCOUNT_WITHOUT_AREA:
        return _("Account")
    if kind == FaultKind.FEEDER_WITHOUT_SUBSTATION:
        return _("Feeder")
    return _("Transformer area")
