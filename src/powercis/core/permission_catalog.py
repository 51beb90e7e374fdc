"""The permission catalogue: every business unit (业务单元) a post can be given, with a stable code.

Seed 3.3: the system decomposes business into detailed processing units; these units
are the permissions, and they are bundled into posts.  Codes are stable forever —
data, posts and separation-of-duties rules refer to them.  ``sync_permissions`` mirrors
this list into the database after every migrate.

The catalogue covers the whole marketing system so that posts and the conflicting
pairs that regulators expect (adjustment create/approve, payment entry/reversal,
tariff change/approve) can be configured from day one; each subsystem's pages and
services check the codes of its own section.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PermissionSpec:
    code: str
    label_zh: str
    label_en: str

    @property
    def subsystem(self) -> str:
        return self.code.split(".", 1)[0]


SUBSYSTEMS = {
    "core": ("系统管理", "Administration"),
    "customers": ("客户档案", "Customers"),
    "grid": ("电网拓扑", "Grid"),
    "metering": ("计量管理", "Metering"),
    "reading": ("抄表采集", "Meter reading"),
    "tariffs": ("电价管理", "Tariffs"),
    "billing": ("电费核算", "Billing"),
    "payments": ("电费收缴及账务", "Collection and accounts"),
    "inspection": ("用电检查", "Inspection"),
    "assurance": ("营销稽查", "Revenue assurance"),
    "lineloss": ("线损管理", "Line loss"),
    "analytics": ("市场分析", "Market analysis"),
}

PERMISSIONS: tuple[PermissionSpec, ...] = (
    # administration
    PermissionSpec("core.view_orgs", "查看组织机构", "View the org tree"),
    PermissionSpec("core.manage_orgs", "维护组织机构", "Maintain orgs"),
    PermissionSpec("core.view_staff", "查看人员与岗位", "View staff and posts"),
    PermissionSpec("core.manage_staff", "维护人员账号、申请岗位授权", "Maintain staff accounts and request post grants"),
    PermissionSpec("core.manage_posts", "维护岗位及其权限", "Maintain posts and their permissions"),
    PermissionSpec("core.approve_grants", "审批岗位授权", "Approve post grants"),
    PermissionSpec("core.manage_sod", "维护职责分离规则", "Maintain separation-of-duties rules"),
    PermissionSpec("core.view_audit", "查询审计日志", "Search the audit trail"),
    PermissionSpec("core.handle_alerts", "处理审计预警", "Handle audit alerts"),
    PermissionSpec("core.manage_alert_rules", "维护审计预警规则", "Maintain audit alert rules"),
    PermissionSpec("core.manage_codes", "维护数据字典", "Maintain code tables"),
    PermissionSpec("core.view_personal_data", "查看完整身份证号和电话", "View full ID and phone numbers"),
    PermissionSpec("core.use_api", "使用接口令牌", "Use API tokens"),
    # customer archive
    PermissionSpec("customers.view", "查询客户档案", "View customer records"),
    PermissionSpec("customers.edit", "维护客户档案", "Maintain customer records"),
    PermissionSpec("customers.change_request", "受理用电变更", "Take account change requests"),
    PermissionSpec("customers.change_approve", "审批用电变更", "Approve account changes"),
    PermissionSpec("customers.import", "批量导入导出档案", "Bulk import and export records"),
    PermissionSpec("customers.manage_contracts", "维护供用电合同", "Maintain supply contracts"),
    # grid
    PermissionSpec("grid.view", "查询电网拓扑", "View grid topology"),
    PermissionSpec("grid.edit", "维护电网拓扑", "Maintain grid topology"),
    # metering
    PermissionSpec("metering.view", "查询计量档案", "View metering records"),
    PermissionSpec("metering.edit", "维护计量点与表计", "Maintain metering points and meters"),
    PermissionSpec("metering.install", "装拆表", "Install and remove meters"),
    # reading
    PermissionSpec("reading.view", "查询抄表数据", "View meter reads"),
    PermissionSpec("reading.enter", "抄表录入", "Enter meter reads"),
    PermissionSpec("reading.manage_routes", "维护抄表段与抄表计划", "Maintain reading routes and plans"),
    PermissionSpec("reading.review", "抄表数据审核", "Review meter reads"),
    PermissionSpec("reading.collect", "管理采集任务", "Manage remote collection"),
    PermissionSpec("reading.release_override", "有异常时强制发布抄表数据", "Release reads to billing despite open exceptions"),
    PermissionSpec("reading.configure", "维护数据审核阈值", "Configure reading validation thresholds"),
    # tariffs
    PermissionSpec("tariffs.view", "查询电价", "View tariffs"),
    PermissionSpec("tariffs.change", "电价变更", "Change tariffs"),
    PermissionSpec("tariffs.approve", "审批电价变更", "Approve tariff changes"),
    PermissionSpec("tariffs.trial", "电费试算", "Run trial billing"),
    # billing
    PermissionSpec("billing.view", "查询电费", "View bills"),
    PermissionSpec("billing.rate", "电量电费计算", "Rate bills"),
    PermissionSpec("billing.review", "电费审核", "Review bills"),
    PermissionSpec("billing.issue", "电费发行", "Issue bills"),
    PermissionSpec("billing.adjustment_create", "退补申请", "Create bill adjustments"),
    PermissionSpec("billing.adjustment_approve", "退补审批", "Approve bill adjustments"),
    # payments
    PermissionSpec("payments.view", "查询收费与账务", "View payments and accounts"),
    PermissionSpec("payments.enter", "收费", "Take payments"),
    PermissionSpec("payments.reverse_request", "申请冲正退费", "Request payment reversal or refund"),
    PermissionSpec("payments.reverse", "审批冲正退费", "Approve payment reversal or refund"),
    PermissionSpec("payments.daily_close", "日结解款", "Daily close and remittance"),
    PermissionSpec("payments.reconcile", "银行对账", "Bank reconciliation"),
    PermissionSpec("payments.ledger", "账务处理与关账", "Ledger and period close"),
    PermissionSpec("payments.waive_late_fee", "审批违约金减免", "Approve late-fee waivers"),
    PermissionSpec("payments.arrears", "欠费管理与催费", "Arrears management"),
    # inspection, assurance, line loss, analysis
    PermissionSpec("inspection.view", "查询用电检查", "View inspections"),
    PermissionSpec("inspection.perform", "用电检查作业", "Carry out inspections"),
    PermissionSpec("assurance.view", "查询营销稽查", "View revenue assurance"),
    PermissionSpec("assurance.audit", "营销稽查作业", "Carry out revenue assurance audits"),
    PermissionSpec("lineloss.view", "查询线损", "View line loss"),
    PermissionSpec("analytics.view", "市场分析预测", "Market analysis and forecasting"),
)

BY_CODE = {spec.code: spec for spec in PERMISSIONS}


def sync_permissions(permission_model) -> int:
    """Mirror the catalogue into the database: insert new codes, refresh labels, deactivate removed codes."""
    existing = {p.code: p for p in permission_model.objects.all()}
    created = 0
    for spec in PERMISSIONS:
        row = existing.get(spec.code)
        if row is None:
            permission_model.objects.create(
                code=spec.code, subsystem=spec.subsystem, label_zh=spec.label_zh, label_en=spec.label_en
            )
            created += 1
        elif (row.label_zh, row.label_en, row.subsystem, row.is_active) != (spec.label_zh, spec.label_en, spec.subsystem, True):
            row.label_zh, row.label_en, row.subsystem, row.is_active = spec.label_zh, spec.label_en, spec.subsystem, True
            row.save()
    permission_model.objects.exclude(code__in=BY_CODE).update(is_active=False)
    return created
