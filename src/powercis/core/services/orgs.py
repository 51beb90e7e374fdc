"""Org tree operations: create companies and orgs, edit, move a subtree, deactivate."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import NotAuthorized, ValidationFailed
from ..models import DataScope, Org, OrgLevel, Staff, org_scoped_models
from ..models.orgs import LEVEL_RANK, path_segment
from .base import apply_changes, validated

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
EDITABLE_FIELDS = {"code", "name", "name_en", "short_name", "level", "address", "phone", "sort_order"}


def _check_code(code: str, exclude_pk: int | None = None) -> None:
    if not CODE_PATTERN.fullmatch(code or ""):
        raise ValidationFailed(fields={"code": [_("Use 1 to 32 letters, digits, '-' or '_'.")]})
    clash = Org.objects.filter(code__iexact=code)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed(fields={"code": [_("An org with code %(code)s already exists.") % {"code": code}]})


def _check_level(level: str, parent: Org | None, children_levels: list[str] = ()) -> None:
    if level not in OrgLevel.values:
        raise ValidationFailed(fields={"level": [_("Unknown org level %(level)s.") % {"level": level}]})
    if parent is not None and LEVEL_RANK[level] <= LEVEL_RANK[parent.level]:
        raise ValidationFailed(fields={"level": [
            _("A %(child)s cannot sit under a %(parent)s.")
            % {"child": OrgLevel(level).label, "parent": OrgLevel(parent.level).label}
        ]})
    for child_level in children_levels:
        if LEVEL_RANK[child_level] <= LEVEL_RANK[level]:
            raise ValidationFailed(fields={"level": [_("The org has child orgs at this level or above it.")]})


def _require_installation_scope(actor: Actor):
    """Creating a new company (a new root) needs core.manage_orgs over all orgs of the installation."""
    if actor.is_system:
        return None
    for grant in authz.grants(actor).get("core.manage_orgs", []):
        if grant.scope == DataScope.ALL:
            return grant
    raise NotAuthorized(_("Only an installation administrator (data scope: all orgs) may create a company."))


@transaction.atomic
def create_company(actor: Actor, *, code: str, name: str, level: str = OrgLevel.PROVINCE, name_en: str = "",
                   short_name: str = "", address: str = "", phone: str = "") -> Org:
    """Create a new root of the org tree together with its own posts, code tables and rules."""
    from .companies import install_company_defaults

    grant = _require_installation_scope(actor)
    _check_code(code)
    _check_level(level, None)
    org = Org(code=code, name=name, level=level, name_en=name_en, short_name=short_name, address=address, phone=phone)
    validated(org, exclude=["path", "depth", "company"])
    org.save()
    Org.objects.filter(pk=org.pk).update(path=path_segment(org.pk), depth=0, company_id=org.pk)
    org.refresh_from_db()
    audit.record_create(actor, org, grant=grant)
    install_company_defaults(actor, org)
    return org


@transaction.atomic
def create_org(actor: Actor, *, parent: Org, code: str, name: str, level: str, name_en: str = "",
               short_name: str = "", address: str = "", phone: str = "", sort_order: int = 0) -> Org:
    grant = authz.require(actor, "core.manage_orgs", parent)
    if not parent.is_active:
        raise ValidationFailed(fields={"parent": [_("The parent org is deactivated.")]})
    _check_code(code)
    _check_level(level, parent)
    org = Org(code=code, name=name, level=level, parent=parent, company_id=parent.company_id, name_en=name_en,
              short_name=short_name, address=address, phone=phone, sort_order=sort_order)
    validated(org, exclude=["path", "depth"])
    org.save()
    Org.objects.filter(pk=org.pk).update(path=parent.path + path_segment(org.pk), depth=parent.depth + 1)
    org.refresh_from_db()
    audit.record_create(actor, org, grant=grant)
    return org


@transaction.atomic
def update_org(actor: Actor, org: Org, *, reason: str = "", **changes) -> Org:
    org = Org.objects.select_for_update().get(pk=org.pk)
    grant = authz.require(actor, "core.manage_orgs", org)
    if "code" in changes and changes["code"] != org.code:
        _check_code(changes["code"], exclude_pk=org.pk)
    if "level" in changes and changes["level"] != org.level:
        children = list(org.children.values_list("level", flat=True))
        _check_level(changes["level"], org.parent, children)
    apply_changes(actor, org, changes, allowed=EDITABLE_FIELDS, grant=grant, reason=reason,
                  exclude_validation=["path", "depth", "parent", "company"])
    return org


@transaction.atomic
def move_org(actor: Actor, org: Org, new_parent: Org, *, reason: str = "") -> Org:
    """Re-parent an org; the whole subtree's paths change in one UPDATE."""
    org = Org.objects.select_for_update().get(pk=org.pk)
    if org.is_company:
        raise ValidationFailed(fields={"parent": [_("A company cannot be moved.")]})
    grant = authz.require(actor, "core.manage_orgs", org)
    authz.require(actor, "core.manage_orgs", new_parent)
    if new_parent.company_id != org.company_id:
        raise ValidationFailed(fields={"parent": [_("An org cannot move to another company.")]})
    if new_parent.is_within(org):
        raise ValidationFailed(fields={"parent": [_("An org cannot move below itself.")]})
    _check_level(org.level, new_parent)
    before = audit.snapshot(org)
    old_path, new_path = org.path, new_parent.path + path_segment(org.pk)
    delta = new_parent.depth + 1 - org.depth
    Org.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    Org.objects.filter(pk=org.pk).update(parent=new_parent)
    for model in org_scoped_models():
        model.objects.filter(org_path__startswith=old_path).update(
            org_path=Concat(Value(new_path), Substr("org_path", len(old_path) + 1)))
    org.refresh_from_db()
    audit.record_update(actor, org, before, grant=grant, reason=reason)
    return org


@transaction.atomic
def set_org_active(actor: Actor, org: Org, active: bool, *, reason: str = "") -> Org:
    org = Org.objects.select_for_update().get(pk=org.pk)
    grant = authz.require(actor, "core.manage_orgs", org)
    if not active:
        if org.children.filter(is_active=True).exists():
            raise ValidationFailed(_("Deactivate the child orgs first."))
        if Staff.objects.filter(org=org, is_active=True).exists():
            raise ValidationFailed(_("Active staff belong to this org; move or deactivate them first."))
    before = audit.snapshot(org)
    org.is_active = active
    org.save(update_fields=["is_active", "updated_at"])
    audit.record_update(actor, org, before, grant=grant, reason=reason)
    return org
