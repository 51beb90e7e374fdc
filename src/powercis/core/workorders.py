"""Work-order kinds and sources: each app says who sees and closes the orders it raises, and where they came from.

Core keeps the orders (``models.WorkOrder``) but knows nothing of reading or inspection.
An app that raises orders registers, per kind, the permissions that let staff see them
(any one, in the order's org) and the permission that lets someone other than the
assignee complete or cancel them; and, per ``source_ref`` prefix (``app.model``), a
function that turns the reference into links the user may open.  The list page, its
menu entry and the actions all ask this registry, so the UI offers exactly what the
services (``services.workorders``) will accept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from . import authz


@dataclass(frozen=True)
class WorkOrderKind:
    code: str
    #: any one of these, in the order's org, shows the order
    view_permissions: tuple[str, ...]
    #: completes or cancels an order of someone else (the assignee may always)
    close_permission: str


@dataclass(frozen=True)
class SourceLink:
    label: str
    url: str


#: (user, order, the id after the colon) → the links to the record that raised the order, those the user may open
SourceResolver = Callable[[object, object, str], list[SourceLink]]

_KINDS: dict[str, WorkOrderKind] = {}
_SOURCES: dict[str, SourceResolver] = {}


def register_kind(kind: WorkOrderKind) -> None:
    _KINDS[kind.code] = kind


def register_source(prefix: str, resolver: SourceResolver) -> None:
    _SOURCES[prefix] = resolver


def kind(code: str) -> WorkOrderKind | None:
    return _KINDS.get(code)


def view_permissions() -> tuple[str, ...]:
    """Every permission that shows some kind of order: who gets the list page and its menu entry."""
    return tuple(dict.fromkeys(p for k in _KINDS.values() for p in k.view_permissions))


def may_view_any(user) -> bool:
    return any(authz.authorize(user, p) for p in view_permissions())


def visible(queryset: QuerySet, user) -> QuerySet:
    """The orders of ``queryset`` the user may see: per kind, those in the orgs where they hold a view permission,
    and always the orders assigned to them."""
    result = queryset.filter(assignee_id=user.pk) if getattr(user, "pk", None) else queryset.none()
    for spec in _KINDS.values():
        result = result | authz.restrict_any(queryset.filter(kind=spec.code), user, spec.view_permissions,
                                             path_field="org_path")
    return result


def may_close(user, order) -> bool:
    """Whether the services would let ``user`` complete or cancel ``order`` (its assignee, or the kind's permission)."""
    if order.status != order.Status.OPEN:
        return False
    if order.assignee_id and order.assignee_id == getattr(user, "pk", None):
        return True
    spec = _KINDS.get(order.kind)
    return spec is not None and authz.authorize(user, spec.close_permission, order.org)


def source_links(user, order) -> list[SourceLink]:
    """Links to the record that raised the order; empty when its app registered none or the user may not see it."""
    prefix, _sep, ident = (order.source_ref or "").partition(":")
    resolver = _SOURCES.get(prefix)
    return resolver(user, order, ident) if resolver and ident else []
