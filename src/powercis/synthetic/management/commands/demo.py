"""``powercis demo``: migrate, load the demo company and generate its synthetic utility (each once), list logins, serve.

The command lives in the synthetic app because it generates customers, grid and
metering data, which core (below every other app) must not know about.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from powercis.core.context import Actor
from powercis.core.demo import DEMO_PASSWORD, load_demo
from powercis.core.errors import BusinessError
from powercis.core.management.commands.serve import Command as ServeCommand
from powercis.synthetic.services import MAX_ACCOUNTS, generate

DEFAULT_ACCOUNTS = 3000


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


def account_count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_ACCOUNTS:
        raise ValueError(text)
    return value


def seed_value(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**63:
        raise ValueError(text)
    return value


class Command(ServeCommand):
    help = (
        "载入演示公司并生成合成用户数据（均幂等）、列出演示账号并启动服务 / "
        "Load the demo company and generate its synthetic utility (each once), list the demo logins and serve "
        "on http://127.0.0.1."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--no-serve", action="store_true",
                            help="只载入数据、列出账号，不启动服务 / load the data and list the logins, do not serve")
        parser.add_argument("--accounts", type=account_count, default=DEFAULT_ACCOUNTS, metavar="N",
                            help=f"生成的用电户数（0 为不生成）/ accounts to generate, 0 for none (default "
                                 f"{DEFAULT_ACCOUNTS:,})")
        parser.add_argument("--seed", type=seed_value, default=1, metavar="S",
                            help="随机种子：相同户数与种子生成相同数据 / seed: the same N and seed give the same rows "
                                 "(default 1)")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                            help="基准日期（默认今天）/ reference date of the generated history (default today)")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        result = load_demo()
        company = result.company
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"已载入演示数据 / Demo data loaded: {company.name} ({company.code})"))
        else:
            self.stdout.write(f"演示数据已存在，沿用 / Demo data already present, reused: {company.name} ({company.code})")
        self.generate(company, options)
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

    def load_reading(self, company, run) -> None:
        """The reading history and the current month by every path (once; see synthetic.reading_demo)."""
        from powercis.synthetic.reading_demo import load_reading_month

        report = load_reading_month(company, as_of=run.as_of, seed=run.seed)
        if not report.created:
            return
        exceptions = sum(report.exceptions.values())
        self.stdout.write(self.style.SUCCESS(
            f"已载入抄表数据 / Meter reading loaded: history {', '.join(report.history)}; {report.period}: "
            f"采集主站 head-end {report.headend_reads:,} reads ({report.headend_quarantined} quarantined), "
            f"DL/T 645 {report.collected_meters} meters, 抄表清单 sheets {report.sheet_tasks} tasks, "
            f"现场录入 field entry {report.entered_tasks} tasks; 待审核异常 exceptions {exceptions:,}, "
            f"复抄工单 re-read work orders {report.rereads_ordered}"))

    def generate(self, company, options) -> None:
        if options["accounts"] == 0:
            return
        try:
            generated = generate(Actor.as_system("demo"), company=company, accounts=options["accounts"],
                                 seed=options["seed"], as_of=options["as_of"])
        except BusinessError as exc:
            details = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.fields.items())
            raise CommandError(f"{exc} {details}".strip()) from exc
        run = generated.run
        self.load_reading(company, run)
        if not generated.created:
            self.stdout.write(f"合成数据已存在，沿用 / Synthetic utility already present, reused: {run.accounts:,} "
                              f"accounts, seed {run.seed}, as of {run.as_of}")
            return
        total = sum(generated.report.rows.values())
        seconds = sum(generated.seconds.values())
        self.stdout.write(self.style.SUCCESS(
            f"已生成合成数据 / Synthetic utility generated: {run.accounts:,} accounts, seed {run.seed}, "
            f"as of {run.as_of}; {total:,} rows in {seconds:.1f} s"))
        if generated.search_rows is None:
            self.stderr.write(self.style.WARNING(
                "搜索索引未能重建，请运行 powercis search rebuild / The search index could not be rebuilt: "
                "run powercis search rebuild"))
