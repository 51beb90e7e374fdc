"""``powercis search <subcommand>``: operations on the archive search index.

``powercis search rebuild`` rewrites the index from the archive (all companies, or one
with ``--company CODE``): after a bulk load that bypassed the services, after a restore,
or when the index is suspected to be stale.  Searches keep working on the old index
until the rebuild commits.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from powercis.core.models import Org
from powercis.search import indexing


class Command(BaseCommand):
    help = "档案搜索索引操作 / Operations on the archive search index."

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True, metavar="<subcommand>",
                                            title="子命令 / subcommands")
        rebuild = subcommands.add_parser(
            "rebuild",
            help="重建搜索索引 / rebuild the search index",
            description=(
                "按档案重建搜索索引（全部公司，或 --company 指定的一个公司），在一个事务内完成。 / "
                "Rewrite the search index from the archive (every company, or the one given with --company) "
                "in one transaction."
            ),
        )
        rebuild.add_argument("--company", metavar="CODE", help="只重建这个公司（组织编码）/ only this company (org code)")
        rebuild.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the result as JSON")

    def handle(self, *args, **options):
        getattr(self, f"handle_{options['subcommand']}")(**options)

    def handle_rebuild(self, **options):
        company_id = None
        if options["company"]:
            company = Org.objects.filter(code=options["company"], parent__isnull=True).first()
            if company is None:
                raise CommandError(f"没有编码为 {options['company']} 的公司 / No company has the code {options['company']}.")
            company_id = company.pk
        result = indexing.rebuild(company_id)
        if options["json"]:
            self.stdout.write(json.dumps({"rows": result.rows, "seconds": round(result.seconds, 3)}))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"搜索索引已重建 / Search index rebuilt: {result.rows} 个用电户 / accounts, {result.seconds:.1f} s"))
