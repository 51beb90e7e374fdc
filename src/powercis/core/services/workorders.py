"""Work orders: raise, complete and cancel field work, audited.

The number is the company's (``WO`` + date + id), set from the row's own id after the
insert so that concurrent creators never collide and no counter row has to be locked.
Raising an order is part of the business action that needs it (a re-read ordered from
the reading worklist): the caller has checked its own permission and passes the grant.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import InvalidTransition, ValidationFailed
from ..models import Org, WorkOrder


@transaction.atomic
def raise_order(actor: Actor, *, org: Org, kind: str, title: str, detail: str = "", account_no: str = "",
                metering_point_code: str = "", source_ref: str = "", assignee=None, due_on: dt.date | None = None,
                grant=None) -> WorkOrder:
    order = WorkOrder(org=org, kind=kind, title=title[:200], detail=detail, account_no=account_no,
                      metering_point_code=metering_point_code, source_ref=source_ref, assignee=assignee,
                      due_on=due_on, created_by=actor.user, number=uuid.uuid4().hex[:32])
    order.save()
    order.number = f"WO{timezone.localdate():%Y%m%d}-{order.pk:06d}"
    WorkOrder.objects.filter(pk=order.pk).update(number=order.number)
    audit.record_create(actor, order, grant=grant, ref=source_ref)
    return order


def _close(actor: Actor, order: WorkOrder, status: str, result: str, perm: str, field: str) -> WorkOrder:
    grant = None if order.assignee_id and actor.user and actor.user.pk == order.assignee_id else \
        authz.require(actor, perm, order.org)
    result = (result or "").strip()
    if not result:
        # the text is what the next person reads about the visit: an order is never closed without one
        raise ValidationFailed(fields={field: [_("Say what was done or why the order is closed.")]})
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if order.status != WorkOrder.Status.OPEN:
        raise InvalidTransition(_("The work order %(no)s is already closed.") % {"no": order.number})
    before = audit.snapshot(order)
    order.status = status
    order.result = result[:300]
    order.completed_at = timezone.now()
    order.save(update_fields=["status", "result", "completed_at"])
    audit.record_update(actor, order, before, grant=grant, reason=result)
    return order


@transaction.atomic
def complete_order(actor: Actor, order: WorkOrder, *, result: str, perm: str) -> WorkOrder:
    """Close an order as done; its assignee may always, others need ``perm`` over its org."""
    return _close(actor, order, WorkOrder.Status.DONE, result, perm, "result")


@transaction.atomic
def cancel_order(actor: Actor, order: WorkOrder, *, reason: str, perm: str) -> WorkOrder:
    """Close an order as not needed any more, with the reason; the same people as for completing it."""
    return _close(actor, order, WorkOrder.Status.CANCELLED, reason, perm, "reason")
