"""A company's own copies of the standard posts, conflicting pairs, alert rules and code tables."""

from __future__ import annotations

from django.db import transaction

from .. import audit
from ..context import Actor
from ..models import AuditAlertRule, CodeItem, CodeTable, Org, Permission, Post, SodRule
from ..permission_catalog import sync_permissions
from ..standard_data import STANDARD_ALERT_RULES, STANDARD_CODE_TABLES, STANDARD_POSTS, STANDARD_SOD_RULES


@transaction.atomic
def install_company_defaults(actor: Actor, company: Org) -> None:
    """Give ``company`` whatever standard post, rule and code table it does not have yet (idempotent)."""
    sync_permissions(Permission)
    perms = {p.code: p for p in Permission.objects.filter(is_active=True)}
    for spec in STANDARD_POSTS:
        post, created = Post.objects.get_or_create(
            company=company, code=spec.code,
            defaults={"label_zh": spec.label_zh, "label_en": spec.label_en, "is_standard": True,
                      "description": spec.description},
        )
        if created:
            post.permissions.set([perms[c] for c in spec.permissions])
            audit.record_create(actor, post, org=company, extra={"permissions": sorted(spec.permissions)})
    for spec in STANDARD_SOD_RULES:
        rule, created = SodRule.objects.get_or_create(
            company=company, permission_a=perms[spec.a], permission_b=perms[spec.b], defaults={"reason": spec.reason}
        )
        if created:
            audit.record_create(actor, rule, org=company)
    for spec in STANDARD_ALERT_RULES:
        if not AuditAlertRule.objects.filter(company=company, kind=spec.kind).exists():
            rule = AuditAlertRule.objects.create(company=company, kind=spec.kind, name=spec.name, params=spec.params)
            audit.record_create(actor, rule, org=company)
    for spec in STANDARD_CODE_TABLES:
        table, created = CodeTable.objects.get_or_create(
            company=company, code=spec.code,
            defaults={"label_zh": spec.label_zh, "label_en": spec.label_en, "source": spec.source,
                      "parent_table": spec.parent_table},
        )
        if created:
            audit.record_create(actor, table, org=company, extra={"items": len(spec.items)})
        existing = set(table.items.values_list("code", flat=True))
        CodeItem.objects.bulk_create([
            CodeItem(table=table, code=code, label_zh=zh, label_en=en, parent_code=parent, sort_order=i * 10)
            for i, (code, zh, en, parent) in enumerate(spec.items)
            if code not in existing
        ])
