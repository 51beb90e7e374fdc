"""``powercis createadmin``: the installation administrator (post sysadmin, data scope all orgs).

This is how a new installation gets its first person: everything is written through the
services as the system actor (channel ``cli``), so the audit trail records it.  Later
administrators are granted posts through approval like everyone else.
"""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from powercis.core.context import Actor
from powercis.core.errors import BusinessError
from powercis.core.models import DataScope, Org, OrgLevel, Post
from powercis.core.services import orgs as org_services
from powercis.core.services import posts as post_services
from powercis.core.services import staff as staff_services

ADMIN_POST = "sysadmin"


def refusal(exc: BusinessError) -> CommandError:
    """A service refusal as one readable message: the reason, then one line per field error."""
    lines = [str(exc.message)]
    for field, messages in exc.fields.items():
        lines += [f"  {field}: {message}" for message in messages]
    return CommandError("无法创建管理员 / Cannot create the administrator:\n" + "\n".join(lines))


class Command(BaseCommand):
    help = (
        "创建安装管理员：系统管理员岗位，数据范围为全部单位 / "
        "Create the installation administrator (post sysadmin, data scope: all orgs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", help="登录名 / login name (asked when interactive)")
        parser.add_argument("--full-name", help="姓名 / full name (default 系统管理员)")
        parser.add_argument("--password",
                            help="初始密码 / initial password (asked when interactive; generated with --no-input)")
        parser.add_argument("--company-code",
                            help="所属公司代码，不存在时创建 / code of the company; created when it does not exist "
                                 "(default: the only company)")
        parser.add_argument("--company-name", help="新公司名称 / name of the company to create")
        parser.add_argument("--company-level", choices=OrgLevel.values, default=OrgLevel.PROVINCE,
                            help="新公司层级 / level of the company to create (default province)")
        parser.add_argument("--no-force-change", action="store_true",
                            help="首次登录不强制修改密码 / do not force a password change at first login")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="不提问；未给密码时生成一个并打印 / ask nothing; generate and print a password if none is given")

    def handle(self, *args, **options):
        interactive = options["interactive"] and sys.stdin.isatty()
        username = options["username"] or self.ask(interactive, "登录名 / Login name: ", "--username")
        full_name = options["full_name"] or (self.ask(interactive, "姓名 / Full name [系统管理员]: ", None) or "系统管理员")
        password, generated = self.password(options, interactive)
        system = Actor.as_system("cli")
        try:
            with transaction.atomic():
                company, company_created = self.company(system, options)
                staff, password = staff_services.create_staff(
                    system, username=username.strip(), full_name=full_name.strip(), org=company, password=password,
                    must_change_password=not options["no_force_change"],
                )
                post = Post.objects.get(company=company, code=ADMIN_POST)
                post_services.bootstrap_grant(system, staff=staff, post=post, org=company, scope=DataScope.ALL)
        except BusinessError as exc:
            raise refusal(exc) from exc
        if company_created:
            self.stdout.write(f"已创建公司 / Company created: {company.name} ({company.code})")
        self.stdout.write(self.style.SUCCESS(
            f"已创建管理员 / Administrator created: {staff.username} ({staff.full_name}), "
            f"{post.label} @ {company.name} ({company.code}), 数据范围：全部单位 / data scope: all orgs"
        ))
        if generated:
            self.stdout.write(f"初始密码 / Initial password: {password}")
        if staff.must_change_password:
            self.stdout.write("首次登录时须修改密码 / The password must be changed at the first login.")

    def ask(self, interactive: bool, prompt: str, option: str | None) -> str:
        if interactive:
            return input(prompt).strip()
        if option:
            raise CommandError(f"请给出 {option} / Give {option} (the command is not interactive).")
        return ""

    def password(self, options: dict, interactive: bool) -> tuple[str | None, bool]:
        """The password to set and whether it was generated (``None`` lets the service generate one)."""
        if options["password"]:
            return options["password"], False
        if not options["interactive"]:
            return None, True
        if not interactive:
            raise CommandError("请给出 --password 或 --no-input / Give --password, or --no-input to generate one.")
        first = getpass.getpass("密码 / Password: ")
        if first != getpass.getpass("再次输入密码 / Password again: "):
            raise CommandError("两次输入的密码不一致 / The passwords do not match.")
        return first, False

    def company(self, system: Actor, options: dict) -> tuple[Org, bool]:
        """The administrator's company, and whether it was created now."""
        code, name = options["company_code"], options["company_name"]
        companies = Org.objects.companies()
        if not code:
            found = list(companies[:2])
            if len(found) == 1:
                return found[0], False
            if not found:
                raise CommandError("还没有公司，请给出 --company-code 和 --company-name / "
                                   "There is no company yet: give --company-code and --company-name.")
            codes = ", ".join(companies.values_list("code", flat=True))
            raise CommandError(f"有多个公司（{codes}），请用 --company-code 指定 / "
                               f"Several companies exist ({codes}): choose one with --company-code.")
        org = Org.objects.filter(code__iexact=code).first()
        if org is not None:
            if not org.is_company:
                raise CommandError(f"{org.code} {org.name} 不是公司（根单位）/ is not a company (a root org).")
            return org, False
        if not name:
            raise CommandError(f"公司 {code} 不存在，请用 --company-name 给出名称以创建 / "
                               f"Company {code} does not exist: give --company-name to create it.")
        return org_services.create_company(system, code=code, name=name, level=options["company_level"]), True
