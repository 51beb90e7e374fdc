"""Reading routes (抄表段): create, change, assign the reader.

A route's code is what accounts carry (``Account.reading_route_code``); it is fixed once
created so that the accounts keep pointing at it.  Moving accounts between routes is an
account edit in the archive.  Changing the reader or the read day affects the next plans
generated; a plan already generated is reassigned with ``plans.reassign``.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from powercis.core import audit, authz
from powercis.core.context import Actor
from powercis.core.errors import ValidationFailed
from powercis.core.models import Org, Staff
from powercis.core.services.base import apply_changes, validated

from ..models import ReadingRoute

CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EDITABLE = {"name", "reader", "read_day", "cycle", "odd_months", "method", "is_active"}


def check_reader(reader: Staff | None, org: Org) -> None:
    """The reader must be active staff who may enter reads for the route's org."""
    if reader is None:
        return
    if not reader.is_active:
        raise ValidationFailed(fields={"reader": [_("%(name)s is not active.") % {"name": reader.full_name}]})
    if not authz.authorize(reader, "reading.enter", org):
        raise ValidationFailed(fields={"reader": [
            _("%(name)s may not enter reads for %(org)s.") % {"name": reader.full_name, "org": org.name}]})


def check_read_day(day) -> None:
    if day is None or not 1 <= int(day) <= 31:
        raise ValidationFailed(fields={"read_day": [_("Enter a day between 1 and 31 (31 is the last day of the month).")]})


@transaction.atomic
def create_route(actor: Actor, *, org: Org, code: str, name: str, reader: Staff | None = None, read_day: int = 25,
                 cycle: str = "monthly", odd_months: bool = True, method: str = "manual") -> ReadingRoute:
    grant = authz.require(actor, "reading.manage_routes", org)
    code = (code or "").strip()
    if not CODE.match(code):
        raise ValidationFailed(fields={"code": [_("Use up to 32 letters, digits, hyphens or underscores.")]})
    company_id = org.company_id or org.pk
    if ReadingRoute.objects.filter(company_id=company_id, code=code).exists():
        raise ValidationFailed(fields={"code": [_("The route code %(code)s is already in use.") % {"code": code}]})
    check_read_day(read_day)
    check_reader(reader, org)
    route = ReadingRoute(org=org, code=code, name=name, reader=reader, read_day=read_day, cycle=cycle,
                         odd_months=odd_months, method=method)
    route.org_path = org.path
    route.company_id = company_id
    validated(route)
    route.save()
    audit.record_create(actor, route, grant=grant)
    return route


@transaction.atomic
def update_route(actor: Actor, route: ReadingRoute, *, reason: str = "", **changes) -> ReadingRoute:
    grant = authz.require(actor, "reading.manage_routes", route.org)
    if "read_day" in changes:
        check_read_day(changes["read_day"])
    if "reader" in changes:
        check_reader(changes["reader"], route.org)
    apply_changes(actor, route, changes, allowed=EDITABLE, grant=grant, reason=reason)
    return route
