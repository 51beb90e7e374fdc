"""Demo data: a small supply company with one login per standard post.

Loaded by ``powercis demo``; idempotent — a second run finds the company and reuses it.
Everything is written through the services as the system actor, so the audit trail of
a demo installation starts with its own creation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .context import Actor
from .models import DataScope, Org, OrgLevel, Post, Staff
from .services import orgs as org_services
from .services import posts as post_services
from .services import staff as staff_services

DEMO_PASSWORD = "Powercis@2026"
COMPANY_CODE = "HZ"

ORG_TREE = (
    # code, name, level, parent code
    ("HZ", "华中示范电力有限公司", OrgLevel.PROVINCE, None),
    ("HZ01", "江城供电公司", OrgLevel.CITY, "HZ"),
    ("HZ0101", "临江县供电公司", OrgLevel.COUNTY, "HZ01"),
    ("HZ010101", "城关供电所", OrgLevel.STATION, "HZ0101"),
    ("HZ010102", "河口供电所", OrgLevel.STATION, "HZ0101"),
    ("HZ0102", "青山区供电公司", OrgLevel.COUNTY, "HZ01"),
    ("HZ010201", "青山营业所", OrgLevel.STATION, "HZ0102"),
    ("HZ02", "白沙供电公司", OrgLevel.CITY, "HZ"),
    ("HZ0201", "白沙县供电公司", OrgLevel.COUNTY, "HZ02"),
    ("HZ020101", "白沙供电所", OrgLevel.STATION, "HZ0201"),
)

LOGINS = (
    # username, full name, post, org code, scope
    ("admin", "王立新", "sysadmin", "HZ", DataScope.SUBTREE),
    ("manager", "陈建华", "marketing_manager", "HZ01", DataScope.SUBTREE),
    ("reader", "李明", "meter_reader", "HZ010101", DataScope.OWN),
    ("clerk", "张静", "billing_clerk", "HZ0101", DataScope.SUBTREE),
    ("reviewer", "刘洋", "bill_reviewer", "HZ0101", DataScope.SUBTREE),
    ("cashier", "赵敏", "cashier", "HZ010101", DataScope.OWN),
    ("accountant", "孙丽", "accountant", "HZ0101", DataScope.SUBTREE),
    ("metering", "周强", "metering_staff", "HZ0101", DataScope.SUBTREE),
    ("inspector", "吴刚", "inspector", "HZ0101", DataScope.SUBTREE),
    ("auditor", "郑华", "auditor", "HZ", DataScope.SUBTREE),
    ("custmgr", "何芳", "account_manager", "HZ0101", DataScope.SUBTREE),
    ("analyst", "马骏", "market_analyst", "HZ", DataScope.SUBTREE),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    post: str
    org: str


@dataclass(frozen=True)
class DemoResult:
    created: bool
    company: Org
    logins: list[DemoLogin]


def _logins(company: Org) -> list[DemoLogin]:
    posts = {p.code: p for p in Post.objects.filter(company=company)}
    orgs = {o.code: o for o in Org.objects.filter(company=company)}
    return [DemoLogin(u, n, posts[p].label, orgs[o].name) for u, n, p, o, _s in LOGINS]


@transaction.atomic
def load_demo() -> DemoResult:
    existing = Org.objects.filter(code=COMPANY_CODE, parent__isnull=True).first()
    if existing is not None:
        return DemoResult(False, existing, _logins(existing))
    system = Actor.as_system("demo")
    orgs: dict[str, Org] = {}
    for code, name, level, parent in ORG_TREE:
        if parent is None:
            orgs[code] = org_services.create_company(system, code=code, name=name, level=level,
                                                     name_en="Huazhong Demonstration Power Co.")
        else:
            orgs[code] = org_services.create_org(system, parent=orgs[parent], code=code, name=name, level=level)
    posts = {p.code: p for p in Post.objects.filter(company=orgs[COMPANY_CODE])}
    for number, (username, full_name, post_code, org_code, scope) in enumerate(LOGINS, start=1001):
        staff, _pw = staff_services.create_staff(
            system, username=username, full_name=full_name, org=orgs[org_code], password=DEMO_PASSWORD,
            employee_no=f"E{number}", must_change_password=False,
        )
        post_services.bootstrap_grant(system, staff=staff, post=posts[post_code], org=orgs[org_code], scope=scope)
    # One pending grant request so the marketing manager's inbox (待办) is not empty: the
    # administrator asks for a second meter reader at 河口供电所.
    admin = Staff.objects.get(username="admin")
    admin_actor = Actor(user=admin, channel="demo")
    newcomer, _pw = staff_services.create_staff(
        admin_actor, username="reader2", full_name="黄伟", org=orgs["HZ010102"], password=DEMO_PASSWORD,
        must_change_password=False,
    )
    post_services.request_post_grant(
        admin_actor, staff=newcomer, post=posts["meter_reader"], org=orgs["HZ010102"], scope=DataScope.OWN,
        reason="新入职抄表员，负责河口供电所抄表段",
    )
    return DemoResult(True, orgs[COMPANY_CODE], _logins(orgs[COMPANY_CODE]))
