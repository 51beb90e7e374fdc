"""Authorisation: the one place that decides who may do what, where.

``authorize(user, "billing.issue", org=...)`` answers a single question, ``require``
raises a clear refusal, and ``restrict(queryset, user, perm, path_field=...)`` is the
one queryset filter for data scope.  Views, API and services all call these; the UI
hides what they would refuse.

A staff member's grants are the (permission, post assignment) pairs of their active
posts.  Each assignment has a data scope: its own org, its org and everything below,
or all orgs of the installation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .context import Actor
from .errors import NotAuthorized
from .models import DataScope, Org, Permission, PostAssignment

_CACHE_ATTR = "_powercis_grants"


@dataclass(frozen=True)
class Grant:
    """One permission held through one post assignment."""

    assignment_id: int
    post_code: str
    org_id: int
    org_path: str
    scope: str
    org_level: str = ""

    def covers(self, org: Org) -> bool:
        if self.scope == DataScope.ALL:
            return True
        if self.scope == DataScope.SUBTREE:
            return org.path.startswith(self.org_path)
        return org.pk == self.org_id

    def q(self, path_field: str) -> Q:
        if self.scope == DataScope.ALL:
            return Q()
        if self.scope == DataScope.SUBTREE:
            return Q(**{f"{path_field}__startswith": self.org_path})
        return Q(**{path_field: self.org_path})


def _user_of(subject):
    """Accept a Staff or an Actor."""
    return subject.user if isinstance(subject, Actor) else subject


def grants(subject) -> dict[str, list[Grant]]:
    """All grants of a user, keyed by permission code; computed once per user object (one query)."""
    user = _user_of(subject)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    rows = (
        PostAssignment.objects.filter(
            staff_id=user.pk, post__is_active=True, post__permissions__is_active=True, org__is_active=True
        )
        .values_list("id", "post__code", "org_id", "org__path", "scope", "org__level", "post__permissions__code")
        .order_by("id")
    )
    result: dict[str, list[Grant]] = {}
    for assignment_id, post_code, org_id, org_path, scope, level, perm in rows:
        result.setdefault(perm, []).append(Grant(assignment_id, post_code, org_id, org_path, scope, level))
    setattr(user, _CACHE_ATTR, result)
    return result


def forget(subject) -> None:
    """Drop the cached grants (after the user's posts changed)."""
    user = _user_of(subject)
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def grant_for(subject, perm: str, org: Org | None = None) -> Grant | None:
    """The first grant of ``perm`` that covers ``org`` (any org when ``org`` is None)."""
    for grant in grants(subject).get(perm, []):
        if org is None or grant.covers(org):
            return grant
    return None


def authorize(subject, perm: str, org: Org | None = None) -> bool:
    """May this user do ``perm`` (in ``org``, or anywhere when no org is given)?"""
    return grant_for(subject, perm, org) is not None


def require(subject, perm: str, org: Org | None = None) -> Grant | None:
    """Return the grant that allows ``perm`` in ``org`` or raise :class:`NotAuthorized`.

    The system actor (:meth:`Actor.as_system`) is allowed and gets ``None``: it is the
    installation itself acting, and it is audited as such.
    """
    if getattr(subject, "is_system", False):
        return None
    grant = grant_for(subject, perm, org)
    if grant is None:
        label = permission_label(perm)
        if org is not None and authorize(subject, perm):
            raise NotAuthorized(
                _("You may “%(perm)s” only within your own orgs; %(org)s is outside them.") % {"perm": label, "org": org.name}
            )
        raise NotAuthorized(_("You do not have the permission “%(perm)s”.") % {"perm": label})
    return grant


def restrict(queryset: QuerySet, subject, perm: str, path_field: str = "org__path") -> QuerySet:
    """Filter ``queryset`` to the rows in orgs where the user holds ``perm``.

    ``path_field`` names the materialised org path of each row: ``"path"`` for orgs
    themselves, ``"org__path"`` for rows with an ``org`` foreign key, or a denormalised
    path column such as the audit trail's ``"org_path"``.
    """
    return restrict_any(queryset, subject, (perm,), path_field)


def restrict_any(queryset: QuerySet, subject, perms, path_field: str = "org__path") -> QuerySet:
    """Like :func:`restrict`, for rows in orgs where the user holds at least one of ``perms``.

    A row that one may view or manage is in scope for a page or endpoint that does both.
    """
    if getattr(subject, "is_system", False):
        return queryset
    held = list(dict.fromkeys(grant for perm in perms for grant in grants(subject).get(perm, [])))
    if not held:
        return queryset.none()
    condition = Q(pk__in=[])
    for grant in held:
        if grant.scope == DataScope.ALL:
            return queryset
        condition |= grant.q(path_field)
    return queryset.filter(condition)


def orgs_in_scope(subject, perm: str) -> QuerySet:
    return restrict(Org.objects.filter(is_active=True), subject, perm, path_field="path")


def permission_label(code: str) -> str:
    perm = Permission.objects.filter(code=code).first()
    return perm.label if perm else code


def held_permissions(subject) -> set[str]:
    return set(grants(subject))
