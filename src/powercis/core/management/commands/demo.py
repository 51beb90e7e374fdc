"""``powercis demo``: migrate, load the demo company (once), print its logins, then serve it."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management import call_command

from powercis.core.demo import DEMO_PASSWORD, load_demo

from .serve import Command as ServeCommand


def display_width(text: str) -> int:
    """Terminal columns of ``text``: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as aligned text columns, CJK-aware."""
    widths = [max(display_width(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(row):
        cells = (cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True))
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(header), rule, *(line(row) for row in rows)]


class Command(ServeCommand):
    help = (
        "载入演示公司（幂等）、列出演示账号并启动服务 / "
        "Load the demo company (once), list the demo logins and serve on http://127.0.0.1."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-serve", action="store_true",
                            help="只载入数据、列出账号，不启动服务 / load the data and list the logins, do not serve")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        result = load_demo()
        company = result.company
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"已载入演示数据 / Demo data loaded: {company.name} ({company.code})"))
        else:
            self.stdout.write(f"演示数据已存在，沿用 / Demo data already present, reused: {company.name} ({company.code})")
        self.stdout.write("")
        self.stdout.write("演示账号 / Demo logins")
        header = ("登录名 Login", "姓名 Name", "岗位 Post", "单位 Org")
        for text in table(header, [(x.username, x.full_name, x.post, x.org) for x in result.logins]):
            self.stdout.write("  " + text)
        self.stdout.write(f"密码（所有账号）/ Password (every login): {DEMO_PASSWORD}")
        self.stdout.write("")
        if options["no_serve"]:
            return
        if settings.SECURE_SSL_REDIRECT:
            self.stderr.write(self.style.WARNING(
                "POWERCIS_TLS 已开启，http 请求会被重定向到 https / POWERCIS_TLS is on: plain http is redirected to https."
            ))
        super().handle(*args, **options)
