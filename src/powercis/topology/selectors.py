"""Read queries of the topology browser and the area page, each in the user's data scope.

Counts shown beside a node come from one correlated COUNT subquery per column, restricted
to the same scope as the rows they count, so a node never reveals how many records lie
outside the user's orgs.  Grid records are scoped by ``grid.view``/``grid.edit``; the
accounts on an area by the customer-archive view permissions over the account's org.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from powercis.core import authz
from powercis.customers.models import AccountStatus
from powercis.customers.selectors import VIEW_PERMS as ACCOUNT_PERMS
from powercis.grid import selectors as grid
from powercis.grid.models import Feeder, TransformerArea
from powercis.metering.models import MeteringPoint, MeterInstallation


def _count(rows: QuerySet, fk: str, *, distinct: str = "pk") -> Coalesce:
    """COUNT of ``rows`` per ``fk`` = the outer row, as a correlated subquery (0 when none)."""
    grouped = (rows.filter(**{fk: OuterRef("pk")}).order_by().values(fk)
               .annotate(n=Count(distinct, distinct=distinct != "pk")).values("n"))
    return Coalesce(Subquery(grouped, output_field=IntegerField()), 0)


def _scoped_grid(queryset: QuerySet, user) -> QuerySet:
    return grid.scoped(queryset, user)


def settlement_points(user) -> QuerySet:
    """Settlement metering points in service of accounts that are not closed, in the user's account scope."""
    points = (MeteringPoint.objects.filter(kind=MeteringPoint.Kind.SETTLEMENT, is_active=True, account__isnull=False)
              .exclude(account__status=AccountStatus.CLOSED))
    return authz.restrict_any(points, user, ACCOUNT_PERMS, path_field="account__org_path")


def substations(user) -> QuerySet:
    feeders = _scoped_grid(Feeder.objects.filter(is_active=True), user)
    areas = _scoped_grid(TransformerArea.objects.filter(is_active=True), user)
    return (grid.visible_substations(user)
            .annotate(feeder_count=_count(feeders, "substation"), area_count=_count(areas, "feeder__substation"))
            .order_by("-is_active", "code"))


def feeders(user, substation=None) -> QuerySet:
    """Feeders of a substation, or (``substation`` None) the feeders that leave no recorded substation."""
    areas = _scoped_grid(TransformerArea.objects.filter(is_active=True), user)
    rows = grid.visible_feeders(user)
    rows = rows.filter(substation=substation) if substation is not None else rows.filter(substation__isnull=True)
    return rows.annotate(area_count=_count(areas, "feeder")).order_by("-is_active", "code")


def areas(user, feeder=None) -> QuerySet:
    """Areas on a feeder, or (``feeder`` None) the areas that hang on no feeder, with their account counts."""
    rows = grid.visible_areas(user)
    rows = rows.filter(feeder=feeder) if feeder is not None else rows.filter(feeder__isnull=True)
    return rows.annotate(account_count=_count(settlement_points(user), "transformer_area", distinct="account")) \
        .order_by("-is_active", "code")


def unassigned_counts(user) -> dict[str, int]:
    return {
        "feeders": grid.visible_feeders(user).filter(substation__isnull=True).count(),
        "areas": grid.visible_areas(user).filter(feeder__isnull=True).count(),
    }


def _current_meter(field: str = "asset_no") -> Subquery:
    installed = MeterInstallation.objects.filter(metering_point=OuterRef("pk"), removed_on__isnull=True)
    return Subquery(installed.order_by("-installed_on").values(f"meter__{field}")[:1])


def assessment_points(area: TransformerArea) -> QuerySet:
    """The area's assessment metering points (台区总表), in service first, with the meter installed now."""
    return (MeteringPoint.objects.filter(transformer_area=area, kind=MeteringPoint.Kind.ASSESSMENT)
            .annotate(meter_asset_no=_current_meter(), meter_type=_current_meter("meter_type"))
            .order_by("-is_active", "code"))


def accounts_on_area(user, area: TransformerArea) -> QuerySet:
    """One row per settlement metering point on the area: the account, the point and its meter now."""
    return (settlement_points(user).filter(transformer_area=area)
            .select_related("account")
            .annotate(meter_asset_no=_current_meter())
            .order_by("account__account_no", "code"))
