"""``powercis collection run``: read the meters of collection channels over DL/T 645 now.

``--due`` runs the channels whose daily run time has come since their last run — the
command a scheduler (cron, or Celery beat where a broker is configured) calls every few
minutes; ``--channel CODE`` runs one channel regardless of its schedule.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from powercis.core.context import Actor
from powercis.core.errors import BusinessError
from powercis.reading.models import CollectionChannel
from powercis.reading.services.collection import due_channels, run_channel


class Command(BaseCommand):
    help = "采集：通过 DL/T 645 读取采集通道下的电能表 / read the meters behind collection channels"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run channels now / 立即采集")
        run.add_argument("--channel", action="append", default=[], help="channel code (repeatable)")
        run.add_argument("--due", action="store_true", help="run the channels whose daily time has come")

    def handle(self, *args, **options):
        actor = Actor.as_system("job")
        channels = list(CollectionChannel.objects.filter(code__in=options["channel"]).select_related("org"))
        missing = set(options["channel"]) - {c.code for c in channels}
        if missing:
            raise CommandError(f"未知采集通道 / unknown channel: {', '.join(sorted(missing))}", returncode=2)
        if options["due"]:
            channels += [c for c in due_channels() if c not in channels]
        if not channels:
            self.stdout.write("没有需要采集的通道 / no channel to run")
            return
        for channel in channels:
            try:
                run = run_channel(actor, channel)
            except BusinessError as exc:
                raise CommandError(f"{channel.code}: {exc}", returncode=2) from exc
            batch = run.batch
            self.stdout.write(
                f"{channel.code}: 表计 meters {run.targets}, 成功 read {run.succeeded}, 失败 failed {run.failed}, "
                f"示数 reads {batch.rows_accepted if batch else 0}, 重复 duplicates {batch.rows_duplicate if batch else 0}")
