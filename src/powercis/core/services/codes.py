"""Code table (数据字典) maintenance: add, edit and deactivate items; every change audited."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import ValidationFailed
from ..models import CodeItem, CodeTable
from .base import apply_changes, validated

ITEM_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")



def _check_parent(table: CodeTable, parent_code: str) -> None:
    """A parent code names an item of this table, or of ``table.parent_table`` when the table declares one."""
    if not parent_code:
        return
    parent_table = table
    if table.parent_table:
        parent_table = CodeTable.objects.filter(company_id=table.company_id, code=table.parent_table).first() or table
    if not parent_table.items.filter(code=parent_code).exists():
        raise ValidationFailed(fields={"parent_code": [
            _("No item with code %(code)s in %(table)s.") % {"code": parent_code, "table": parent_table.label}
        ]})


@transaction.atomic
def add_item(actor: Actor, table: CodeTable, *, code: str, label_zh: str, label_en: str = "", parent_code: str = "",
             sort_order: int = 0, reason: str = "") -> CodeItem:
    grant = authz.require(actor, "core.manage_codes", table.company)
    if not ITEM_CODE.fullmatch(code or ""):
        raise ValidationFailed(fields={"code": [_("Use 1 to 40 letters, digits, '.', '_' or '-'.")]})
    if table.items.filter(code=code).exists():
        raise ValidationFailed(fields={"code": [_("The code %(code)s is already in this table.") % {"code": code}]})
    _check_parent(table, parent_code)
    item = CodeItem(table=table, code=code, label_zh=label_zh, label_en=label_en or label_zh, parent_code=parent_code,
                    sort_order=sort_order)
    validated(item)
    item.save()
    audit.record_create(actor, item, org=table.company, grant=grant, reason=reason)
    return item


@transaction.atomic
def update_item(actor: Actor, item: CodeItem, *, reason: str = "", **changes) -> CodeItem:
    """Labels, order and the active flag may change; the code never does, because data refers to it."""
    item = CodeItem.objects.select_for_update().select_related("table__company").get(pk=item.pk)
    grant = authz.require(actor, "core.manage_codes", item.table.company)
    if "parent_code" in changes:
        _check_parent(item.table, changes["parent_code"])
    apply_changes(actor, item, changes, allowed={"label_zh", "label_en", "sort_order", "is_active", "parent_code"},
                  grant=grant, reason=reason)
    return item
