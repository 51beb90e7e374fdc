"""What every new company starts with: the standard posts, conflicting pairs, alert rules and code tables.

A company is a root of the org tree and owns its copies, so one company's
administrator can adapt them without touching another company's.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PostSpec:
    code: str
    label_zh: str
    label_en: str
    permissions: tuple[str, ...]
    description: str = ""


# DESIGN.md §1: 抄表员, 核算员, 审核员, 收费员, 账务员, 计量员, 用电检查员, 稽查员, 客户经理,
# 市场分析员, 营销部主任, 系统管理员.  Seed 2.2(2): posts that approve do not also process
# the same business, and (3): a post holds only its own business units.
STANDARD_POSTS: tuple[PostSpec, ...] = (
    PostSpec("meter_reader", "抄表员", "Meter reader",
             ("reading.view", "reading.enter", "customers.view", "metering.view")),
    PostSpec("billing_clerk", "核算员", "Billing clerk",
             ("customers.view", "reading.view", "reading.review", "reading.manage_routes", "tariffs.view", "tariffs.change",
              "tariffs.trial",
              "billing.view", "billing.rate", "billing.adjustment_create")),
    PostSpec("bill_reviewer", "审核员", "Bill reviewer",
             ("customers.view", "reading.view", "tariffs.view", "billing.view", "billing.review", "billing.issue",
              "billing.adjustment_approve")),
    PostSpec("cashier", "收费员", "Cashier",
             ("customers.view", "billing.view", "payments.view", "payments.enter", "payments.reverse_request",
              "payments.daily_close")),
    PostSpec("accountant", "账务员", "Accountant",
             ("customers.view", "billing.view", "payments.view", "payments.reverse", "payments.reconcile",
              "payments.ledger", "payments.arrears")),
    PostSpec("metering_staff", "计量员", "Metering staff",
             ("customers.view", "grid.view", "metering.view", "metering.edit", "metering.install", "reading.view",
              "reading.collect")),
    PostSpec("inspector", "用电检查员", "Inspector",
             ("customers.view", "grid.view", "metering.view", "reading.view", "inspection.view", "inspection.perform")),
    PostSpec("auditor", "稽查员", "Revenue-assurance auditor",
             ("core.view_orgs", "core.view_staff", "core.view_audit", "core.handle_alerts", "customers.view",
              "grid.view", "metering.view", "reading.view", "tariffs.view", "billing.view", "payments.view",
              "assurance.view", "assurance.audit", "lineloss.view")),
    PostSpec("account_manager", "客户经理", "Account manager",
             ("customers.view", "customers.edit", "customers.change_request", "customers.manage_contracts",
              "customers.import", "core.view_personal_data", "grid.view", "billing.view", "payments.view")),
    PostSpec("market_analyst", "市场分析员", "Market analyst",
             ("customers.view", "billing.view", "lineloss.view", "analytics.view")),
    PostSpec("marketing_manager", "营销部主任", "Marketing manager",
             ("core.view_orgs", "core.view_staff", "core.approve_grants", "core.view_audit", "core.handle_alerts",
              "customers.view", "customers.change_approve", "reading.view", "reading.release_override",
              "reading.configure", "tariffs.view", "tariffs.approve", "billing.view",
              "billing.adjustment_approve", "payments.view", "payments.waive_late_fee", "lineloss.view",
              "analytics.view")),
    PostSpec("sysadmin", "系统管理员", "Administrator",
             ("core.view_orgs", "core.manage_orgs", "core.view_staff", "core.manage_staff", "core.manage_posts",
              "core.manage_sod", "core.manage_codes", "core.manage_alert_rules", "core.view_audit", "core.use_api")),
)


@dataclass(frozen=True)
class SodSpec:
    a: str
    b: str
    reason: str


STANDARD_SOD_RULES: tuple[SodSpec, ...] = (
    SodSpec("billing.adjustment_create", "billing.adjustment_approve", "退补申请与退补审批不得由同一人担任"),
    SodSpec("payments.enter", "payments.reverse", "收费与冲正退费审批不得由同一人担任"),
    SodSpec("tariffs.change", "tariffs.approve", "电价变更与电价审批不得由同一人担任"),
    SodSpec("customers.change_request", "customers.change_approve", "用电变更受理与审批不得由同一人担任"),
    SodSpec("core.manage_staff", "core.approve_grants", "人员授权申请与授权审批不得由同一人担任"),
)


@dataclass(frozen=True)
class AlertRuleSpec:
    kind: str
    name: str
    params: dict = field(default_factory=dict)


# The billing-relevant fields are named "<app>.<model>.<field>"; fields of models that
# an installation does not have yet simply never match.
STANDARD_ALERT_RULES: tuple[AlertRuleSpec, ...] = (
    AlertRuleSpec("unreferenced_change", "计费相关字段无工单变更", {"fields": [
        "customers.account.usage_category", "customers.account.voltage_level", "customers.account.tariff_id",
        "customers.account.contract_capacity", "customers.account.running_capacity", "customers.account.pf_standard",
        "customers.account.metering_mode", "customers.account.capacity_basis",
        "metering.meteringpoint.multiplier", "metering.meteringpoint.ct_ratio", "metering.meteringpoint.pt_ratio",
    ]}),
    AlertRuleSpec("off_hours", "非工作时间修改", {"start": "08:00", "end": "18:00", "weekdays": [1, 2, 3, 4, 5]}),
    AlertRuleSpec("change_volume", "单人单日修改过多", {"max_per_day": 200}),
)


@dataclass(frozen=True)
class CodeTableSpec:
    code: str
    label_zh: str
    label_en: str
    items: tuple[tuple[str, str, str, str], ...]  # (code, label_zh, label_en, parent_code)
    source: str = ""
    parent_table: str = ""


STANDARD_CODE_TABLES: tuple[CodeTableSpec, ...] = (
    CodeTableSpec("usage_category", "用电类别", "Usage category", (
        ("RES", "居民生活用电", "Residential", ""),
        ("RES_T", "居民一户一表", "Residential, one meter per household", "RES"),
        ("RES_C", "居民合表", "Residential, shared meter", "RES"),
        ("RES_R", "农村居民", "Rural residential", "RES"),
        ("AGR", "农业生产用电", "Agricultural production", ""),
        ("CI", "工商业用电", "Commercial and industrial", ""),
        ("CI_1", "工商业单一制", "Commercial and industrial, single-part", "CI"),
        ("CI_2", "工商业两部制", "Commercial and industrial, two-part", "CI"),
        ("LI", "大工业用电(历史分类)", "Large industrial (pre-2023 class)", ""),
        ("GCI", "一般工商业用电(历史分类)", "General commercial and industrial (pre-2023 class)", ""),
        ("WHS", "趸售用电", "Wholesale to other utilities", ""),
    ), "发改价格〔2023〕526号 及各省输配电价表"),
    CodeTableSpec("voltage_level", "供电电压", "Supply voltage", (
        ("AC220V", "交流220V", "AC 220 V", "LT1KV"),
        ("AC380V", "交流380V", "AC 380 V", "LT1KV"),
        ("AC10KV", "交流10kV", "AC 10 kV", "1_10KV"),
        ("AC20KV", "交流20kV", "AC 20 kV", "1_10KV"),
        ("AC35KV", "交流35kV", "AC 35 kV", "35KV"),
        ("AC66KV", "交流66kV", "AC 66 kV", "35KV"),
        ("AC110KV", "交流110kV", "AC 110 kV", "110KV"),
        ("AC220KV", "交流220kV", "AC 220 kV", "220KV"),
        ("AC330KV", "交流330kV", "AC 330 kV", "220KV"),
        ("AC500KV", "交流500kV", "AC 500 kV", "220KV"),
    ), "parent_code gives the tariff voltage band", parent_table="tariff_voltage_band"),
    CodeTableSpec("tariff_voltage_band", "电价电压等级", "Tariff voltage band", (
        ("LT1KV", "不满1千伏", "Below 1 kV", ""),
        ("1_10KV", "1-10(20)千伏", "1-10 (20) kV", ""),
        ("35KV", "35千伏", "35 kV", ""),
        ("110KV", "110千伏", "110 kV", ""),
        ("220KV", "220千伏及以上", "220 kV and above", ""),
    ), "domain/billing-rules.md §6.6"),
    CodeTableSpec("industry_class", "行业分类", "Industry class", (
        ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery", ""),
        ("B", "采矿业", "Mining", ""),
        ("C", "制造业", "Manufacturing", ""),
        ("D", "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water production and supply", ""),
        ("E", "建筑业", "Construction", ""),
        ("F", "批发和零售业", "Wholesale and retail trade", ""),
        ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services", ""),
        ("H", "住宿和餐饮业", "Accommodation and catering", ""),
        ("I", "信息传输、软件和信息技术服务业", "Information transmission, software and IT services", ""),
        ("J", "金融业", "Finance", ""),
        ("K", "房地产业", "Real estate", ""),
        ("L", "租赁和商务服务业", "Leasing and business services", ""),
        ("M", "科学研究和技术服务业", "Scientific research and technical services", ""),
        ("N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management", ""),
        ("O", "居民服务、修理和其他服务业", "Residential services, repair and other services", ""),
        ("P", "教育", "Education", ""),
        ("Q", "卫生和社会工作", "Health and social work", ""),
        ("R", "文化、体育和娱乐业", "Culture, sports and entertainment", ""),
        ("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations", ""),
        ("T", "国际组织", "International organisations", ""),
        ("RES", "城乡居民生活用电", "Urban and rural residential consumption", ""),
    ), "GB/T 4754-2017 门类; 城乡居民生活用电 as in the national consumption statistics"),
    CodeTableSpec("customer_type", "客户分类", "Customer type", (
        ("HV", "高压客户", "High-voltage customer", ""),
        ("LV_NR", "低压非居民客户", "Low-voltage non-residential customer", ""),
        ("LV_R", "低压居民客户", "Low-voltage residential customer", ""),
    )),
    CodeTableSpec("metering_mode", "计量方式", "Metering mode", (
        ("HH", "高供高计", "HV supply, HV metering", ""),
        ("HL", "高供低计", "HV supply, LV metering", ""),
        ("LL", "低供低计", "LV supply, LV metering", ""),
    )),
    CodeTableSpec("pf_standard", "功率因数考核标准", "Power-factor standard", (
        ("0.90", "0.90", "0.90", ""),
        ("0.85", "0.85", "0.85", ""),
        ("0.80", "0.80", "0.80", ""),
        ("NONE", "不考核", "Not assessed", ""),
    ), "《功率因数调整电费办法》(1983)"),
    CodeTableSpec("account_status", "用户状态", "Account status", (
        ("NORMAL", "正常", "Normal", ""),
        ("SUSPENDED", "暂停", "Suspended", ""),
        ("CLOSED", "销户", "Closed", ""),
    )),
    CodeTableSpec("unread_reason", "未抄原因", "Reason a meter was not read", (
        ("LOCKED", "门闭/无人", "Door locked, nobody home", ""),
        ("NO_ACCESS", "无法接近表计", "Meter out of reach", ""),
        ("DISPLAY", "示数不清/黑屏", "Display unreadable or blank", ""),
        ("DAMAGED", "表计损坏", "Meter damaged", ""),
        ("MISSING", "表计丢失", "Meter missing", ""),
        ("DANGER", "现场不安全", "Unsafe on site", ""),
        ("COMM", "远程采集失败", "Remote collection failed", ""),
        ("OTHER", "其他", "Other", ""),
    ), "《电费抄核收管理规则》抄表异常"),
    CodeTableSpec("payment_method", "缴费方式", "Payment method", (
        ("COUNTER", "坐收", "Counter payment", ""),
        ("WITHHOLD", "代扣", "Bank withholding", ""),
        ("AGENT", "代收", "Bank or third-party collection", ""),
        ("PREPAID", "预付费(费控)", "Prepayment", ""),
        ("TRANSFER", "转账/支票", "Transfer or cheque", ""),
    )),
    CodeTableSpec("importance_level", "重要用户等级", "Importance level", (
        ("SPECIAL", "特级重要用户", "Special-class important customer", ""),
        ("LEVEL1", "一级重要用户", "First-class important customer", ""),
        ("LEVEL2", "二级重要用户", "Second-class important customer", ""),
        ("TEMP", "临时性重要用户", "Temporary important customer", ""),
        ("NONE", "非重要用户", "Not an important customer", ""),
    ), "GB/Z 29328-2012"),
)
