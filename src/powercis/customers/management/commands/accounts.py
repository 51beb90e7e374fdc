"""``powercis accounts roll-forward``: bring accounts in line with changes that took effect (the daily job).

Approved changes dated in the future wait in the account's versions; on their date this
job copies them onto the account (audited with the change as reference).  Run it once
a day from the scheduler; a missed day is caught up because it looks back a month.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from powercis.core.context import Actor
from powercis.customers.services.versions import roll_forward


class Command(BaseCommand):
    help = "用电户档案作业 / Account archive jobs."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="<subcommand>",
                                            title="子命令 / subcommands")
        roll = subcommands.add_parser(
            "roll-forward",
            help="使到期生效的变更生效 / apply changes whose effective date has come",
            description=("把生效日期已到的已批准变更写入用电户当前档案（每日运行）。 / Copy approved changes whose "
                         "effective date has come onto the accounts (run daily)."),
        )
        roll.add_argument("--date", help="按此日期执行，默认今天 / run as of this date (YYYY-MM-DD), default today")
        roll.add_argument("--lookback-days", type=int, default=31,
                          help="回看天数，补上漏跑的日子 / days to look back for missed runs (default 31)")

    def handle(self, *args, **options):
        today = None
        if options.get("date"):
            try:
                today = dt.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError("日期格式应为 YYYY-MM-DD / the date must be YYYY-MM-DD") from exc
        updated = roll_forward(Actor.as_system("job"), today=today,
                               lookback_days=options["lookback_days"])
        self.stdout.write(f"已更新 {updated} 户 / {updated} accounts updated")
