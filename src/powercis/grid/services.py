"""Maintaining the grid topology: substations, feeders, transformer areas, transformers, communities, buildings.

Every function is one transaction that checks ``grid.edit`` in the record's org, validates
the whole record (codes unique per company, voltage levels from the company's code table,
GeoJSON shapes and coordinates, parents of the same company and in the user's scope) and
writes one audit record.  Codes never change after creation: imports, reading routes and
line-loss reports refer to records by code.  A transformer area changes feeder only through
:func:`move_area`, which needs a reason, because it changes which feeder's line loss the
area's energy counts towards (domain/metering-audit.md §3.3).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import models, transaction
from django.utils.translation import gettext as _

from powercis.core import audit, authz, codelists
from powercis.core.context import Actor
from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditCategory, Org
from powercis.core.services.base import apply_changes, validated

from .geometry import LINES, POLYGONS, GeometryError, centre, check_coordinates, check_geometry
from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea
from .selectors import GRID_PERMS

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

#: the GeoJSON types each kind of record may have as its shape
GEOMETRY_TYPES: dict[type[models.Model], tuple[str, ...]] = {
    Feeder: LINES, TransformerArea: POLYGONS, Community: POLYGONS, Building: POLYGONS,
}
#: the field naming each record's place one level up the topology, and what it must be
PARENTS: dict[type[models.Model], tuple[str, type[models.Model]]] = {
    Feeder: ("substation", Substation), TransformerArea: ("feeder", Feeder), Transformer: ("area", TransformerArea),
    Building: ("community", Community),
}
#: fields an update may change (codes never; an area's feeder only through move_area)
EDITABLE: dict[type[models.Model], set[str]] = {
    Substation: {"org", "name", "voltage_level", "longitude", "latitude"},
    Feeder: {"org", "name", "voltage_level", "substation", "geometry"},
    TransformerArea: {"org", "name", "ownership", "capacity_kva", "longitude", "latitude", "geometry"},
    Transformer: {"org", "area", "model_name", "capacity_kva", "no_load_loss_kw", "load_loss_kw",
                  "no_load_current_pct", "impedance_voltage_pct"},
    Community: {"org", "name", "address", "longitude", "latitude", "geometry"},
    Building: {"org", "name", "community", "longitude", "latitude", "geometry"},
}
NON_NEGATIVE = ("capacity_kva", "no_load_loss_kw", "load_loss_kw", "no_load_current_pct", "impedance_voltage_pct")


def _company_id(org: Org) -> int:
    return org.company_id or org.pk


def _check_code(model, company_id: int, code: str) -> None:
    if not CODE.fullmatch(code or ""):
        raise ValidationFailed(fields={"code": [_("Use 1 to 32 letters, digits, '-', '_' or '.'.")]})
    if model.objects.filter(company_id=company_id, code=code).exists():
        raise ValidationFailed(fields={"code": [
            _("The code %(code)s is already used by another %(kind)s of this company.")
            % {"code": code, "kind": model._meta.verbose_name}]})


def _check_parent(actor: Actor, model, company_id: int, values: dict) -> None:
    """The parent must exist in the same company and lie in the user's grid scope."""
    if model not in PARENTS:
        return
    field, parent_model = PARENTS[model]
    parent = values.get(field)
    if parent is None:
        if model is Building and field in values:
            raise ValidationFailed(fields={field: [_("A building belongs to a community.")]})
        return
    if not isinstance(parent, parent_model):
        raise ValidationFailed(fields={field: [_("Choose a %(kind)s.") % {"kind": parent_model._meta.verbose_name}]})
    if parent.company_id != company_id:
        raise ValidationFailed(fields={field: [_("%(name)s belongs to another company.") % {"name": parent}]})
    if not actor.is_system and not any(authz.authorize(actor, perm, parent.org) for perm in GRID_PERMS):
        raise NotAuthorized(_("%(name)s is outside your data scope.") % {"name": parent})


def _check_numbers(values: dict) -> None:
    errors = {}
    for name in NON_NEGATIVE:
        if values.get(name) is None:
            continue
        try:
            number = Decimal(str(values[name]))
        except InvalidOperation:
            errors[name] = [_("Enter a number.")]
            continue
        if not number.is_finite() or number < 0:
            errors[name] = [_("The value cannot be negative.")]
        values[name] = number
    if errors:
        raise ValidationFailed(fields=errors)


def _check_place(model, values: dict, current=None) -> None:
    """Validate the shape and the point; an outline without a point gives the record its centre."""
    types = GEOMETRY_TYPES.get(model)
    box = check_geometry("geometry", values.get("geometry"), types) if types and "geometry" in values else None
    if "geometry" in values and values["geometry"] in ("", {}):
        values["geometry"] = None
    if not hasattr(model, "latitude"):
        return
    lon = values["longitude"] if "longitude" in values else getattr(current, "longitude", None)
    lat = values["latitude"] if "latitude" in values else getattr(current, "latitude", None)
    if lon is None and lat is None and box is not None:
        values["longitude"], values["latitude"] = centre(box)
        return
    if (lon is None) != (lat is None):
        raise ValidationFailed(fields={"latitude" if lat is None else "longitude": [
            _("Give both the longitude and the latitude, or neither.")]})
    if lon is not None:
        try:
            check_coordinates(float(lon), float(lat), _("The point"))
        except GeometryError as exc:
            raise ValidationFailed(fields={"longitude": [str(exc)]}) from exc


def _check_values(actor: Actor, model, company_id: int, values: dict, current=None) -> None:
    if "voltage_level" in values:
        if not values["voltage_level"]:
            raise ValidationFailed(fields={"voltage_level": [_("Choose a voltage level.")]})
        codelists.check(company_id, {"voltage_level": ("voltage_level", values["voltage_level"])})
    _check_numbers(values)
    if model is Transformer and "capacity_kva" in values and not (values["capacity_kva"] or 0) > 0:
        raise ValidationFailed(fields={"capacity_kva": [_("A transformer needs a rated capacity above zero.")]})
    _check_parent(actor, model, company_id, values)
    _check_place(model, values, current)


@transaction.atomic
def _create(actor: Actor, model, *, org: Org, code: str, reason: str = "", **values):
    grant = authz.require(actor, "grid.edit", org)
    company_id = _company_id(org)
    _check_code(model, company_id, code)
    settable = (EDITABLE[model] - {"org"}) | ({"feeder"} if model is TransformerArea else set())
    unknown = sorted(set(values) - settable)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be set here.")] for k in unknown})
    _check_values(actor, model, company_id, values)
    obj = model(org=org, company_id=company_id, code=code, **values)
    validated(obj, exclude=["org_path"])
    obj.save()
    audit.record_create(actor, obj, org=org, grant=grant, reason=reason)
    return obj


def create_substation(actor: Actor, *, org: Org, code: str, name: str, voltage_level: str, reason: str = "",
                      **fields) -> Substation:
    return _create(actor, Substation, org=org, code=code, name=name, voltage_level=voltage_level, reason=reason,
                   **fields)


def create_feeder(actor: Actor, *, org: Org, code: str, name: str, voltage_level: str,
                  substation: Substation | None = None, reason: str = "", **fields) -> Feeder:
    return _create(actor, Feeder, org=org, code=code, name=name, voltage_level=voltage_level, substation=substation,
                   reason=reason, **fields)


def create_area(actor: Actor, *, org: Org, code: str, name: str, feeder: Feeder | None = None,
                ownership: str = TransformerArea.Ownership.PUBLIC, reason: str = "", **fields) -> TransformerArea:
    return _create(actor, TransformerArea, org=org, code=code, name=name, feeder=feeder, ownership=ownership,
                   reason=reason, **fields)


def create_transformer(actor: Actor, *, org: Org, code: str, capacity_kva, area: TransformerArea | None = None,
                       reason: str = "", **fields) -> Transformer:
    return _create(actor, Transformer, org=org, code=code, capacity_kva=capacity_kva, area=area, reason=reason,
                   **fields)


def create_community(actor: Actor, *, org: Org, code: str, name: str, reason: str = "", **fields) -> Community:
    return _create(actor, Community, org=org, code=code, name=name, reason=reason, **fields)


def create_building(actor: Actor, *, org: Org, code: str, name: str, community: Community, reason: str = "",
                    **fields) -> Building:
    return _create(actor, Building, org=org, code=code, name=name, community=community, reason=reason, **fields)


@transaction.atomic
def update_record(actor: Actor, obj, *, reason: str = "", **changes):
    """Change the editable fields of any grid record; moving it to another org needs ``grid.edit`` there too."""
    model = type(obj)
    obj = model.objects.select_for_update(of=("self",)).select_related("org").get(pk=obj.pk)
    grant = authz.require(actor, "grid.edit", obj.org)
    new_org = changes.get("org")
    if new_org is not None and new_org.pk != obj.org_id:
        authz.require(actor, "grid.edit", new_org)
        if _company_id(new_org) != obj.company_id:
            raise ValidationFailed(fields={"org": [_("A record cannot move to another company.")]})
    _check_values(actor, model, obj.company_id, changes, current=obj)
    apply_changes(actor, obj, changes, allowed=EDITABLE[model], grant=grant, reason=reason,
                  exclude_validation=["org_path"])
    return obj


@transaction.atomic
def set_active(actor: Actor, obj, active: bool, *, reason: str = ""):
    """Take a record out of service (or back); it stays on file for the history that refers to it."""
    model = type(obj)
    obj = model.objects.select_for_update(of=("self",)).select_related("org").get(pk=obj.pk)
    grant = authz.require(actor, "grid.edit", obj.org)
    apply_changes(actor, obj, {"is_active": bool(active)}, allowed={"is_active"}, grant=grant, reason=reason,
                  exclude_validation=["org_path"])
    return obj


@transaction.atomic
def move_area(actor: Actor, area: TransformerArea, feeder: Feeder | None, *, reason: str) -> TransformerArea:
    """Hang a transformer area on another feeder (线变关系 change); audited as a move with its reason."""
    area = TransformerArea.objects.select_for_update(of=("self",)).select_related("org", "feeder").get(pk=area.pk)
    grant = authz.require(actor, "grid.edit", area.org)
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Say why the area moves to another feeder.")]})
    if feeder is not None and feeder.pk == area.feeder_id:
        raise ValidationFailed(fields={"feeder": [_("The area already hangs on this feeder.")]})
    _check_parent(actor, TransformerArea, area.company_id, {"feeder": feeder})
    old = area.feeder
    area.feeder = feeder
    area.save(update_fields=["feeder"])
    audit.record(actor, action="area.move", category=AuditCategory.CHANGE, obj=area, org=area.org, grant=grant,
                 changes={"feeder_id": [old.pk if old else None, feeder.pk if feeder else None],
                          "feeder_code": [old.code if old else None, feeder.code if feeder else None]},
                 reason=reason)
    return area
