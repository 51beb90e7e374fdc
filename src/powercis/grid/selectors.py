"""Read queries of the grid topology, each restricted to the orgs where the user may view or maintain it.

A row one may maintain is also one one may see, so every list is scoped by either
``grid.view`` or ``grid.edit`` over the row's own ``org_path``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from powercis.core import authz

from .models import Building, Community, Feeder, Substation, Transformer, TransformerArea

GRID_PERMS = ("grid.view", "grid.edit")


def scoped(queryset: QuerySet, user, perms=GRID_PERMS) -> QuerySet:
    return authz.restrict_any(queryset, user, perms, path_field="org_path")


def visible_substations(user) -> QuerySet:
    return scoped(Substation.objects.select_related("org"), user)


def visible_feeders(user) -> QuerySet:
    return scoped(Feeder.objects.select_related("org", "substation"), user)


def visible_areas(user) -> QuerySet:
    return scoped(TransformerArea.objects.select_related("org", "feeder", "feeder__substation"), user)


def visible_transformers(user) -> QuerySet:
    return scoped(Transformer.objects.select_related("org", "area"), user)


def visible_communities(user) -> QuerySet:
    return scoped(Community.objects.select_related("org"), user)


def visible_buildings(user) -> QuerySet:
    return scoped(Building.objects.select_related("org", "community"), user)


def editable(queryset: QuerySet, user) -> QuerySet:
    """The rows of ``queryset`` the user may maintain (``grid.edit`` over their org)."""
    return scoped(queryset, user, ("grid.edit",))
