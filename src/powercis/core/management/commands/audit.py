"""``powercis audit <subcommand>``: operations on the hash-chained audit trail.

``powercis audit verify`` walks the whole chain (:func:`powercis.core.audit.verify`) and
exits 0 when it is intact, 1 naming the first bad record otherwise, so a scheduler or
monitoring system can run it and alert on the exit status.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from powercis.core import audit
from powercis.core.models import AuditRecord


class Command(BaseCommand):
    help = "审计日志操作 / Operations on the hash-chained audit trail."
    # Verifying the trail must not depend on the rest of the configuration being sound.
    requires_system_checks = []

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="<subcommand>",
                                            title="子命令 / subcommands")
        verify = subcommands.add_parser(
            "verify",
            help="校验审计链 / verify the chain",
            description=(
                "逐条校验审计链：内容与哈希一致、序号连续、链头与末条一致。完整时退出码 0，否则退出码 1 并指出第一条问题记录。 / "
                "Walk the chain: every record matches its hash, sequence numbers are contiguous, the chain head "
                "agrees with the last record.  Exit 0 when intact, 1 naming the first bad record."
            ),
        )
        verify.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")

    def handle(self, *args, **options):
        getattr(self, f"handle_{options['subcommand']}")(**options)

    def handle_verify(self, **options):
        if AuditRecord._meta.db_table not in connection.introspection.table_names():
            raise CommandError("数据库中还没有审计日志，请先运行 powercis migrate / "
                               "The database has no audit trail yet: run `powercis migrate` first.")
        result = audit.verify()
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": result.ok,
                "records": result.checked,
                "head_hash": result.head_hash,
                "first_bad_seq": result.first_bad_seq,
                "problem": result.problem,
            }, ensure_ascii=False))
        elif result.ok:
            self.stdout.write(self.style.SUCCESS(
                f"审计链完整 / Audit trail intact: {result.checked} 条记录 / records, "
                f"链头哈希 / head hash {result.head_hash}"
            ))
        if not result.ok:
            raise CommandError(
                f"审计链已损坏 / Audit trail broken at record #{result.first_bad_seq} "
                f"(前 {result.checked} 条完好 / {result.checked} records intact before it): {result.problem}"
            )
