"""``powercis serve``: collect the static files, then run the WSGI application under gunicorn."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from gunicorn.app.base import BaseApplication

WSGI_APP = "powercis.wsgi:application"
MAX_DEFAULT_WORKERS = 16


def default_workers() -> int:
    """Gunicorn's rule of thumb, 2 × usable cores + 1, at least 2 and at most 16 (memory: one Django per worker)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(2, min(2 * cores + 1, MAX_DEFAULT_WORKERS))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class GunicornServer(BaseApplication):
    """Gunicorn embedded in the process, configured from a dict instead of its own command line."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        # Settings unknown to the installed gunicorn version (e.g. the control socket,
        # new in 25) are skipped, so older versions still start.
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self):
        from gunicorn.util import import_app

        return import_app(WSGI_APP)


class Command(BaseCommand):
    help = "以 gunicorn 启动 Web 服务 / Serve the web application with gunicorn (static files through WhiteNoise)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1",
                            help="监听地址 / address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces)")
        parser.add_argument("--port", type=positive_int, default=8000, help="端口 / port (default 8000)")
        parser.add_argument("--workers", type=positive_int, default=None,
                            help=f"工作进程数 / worker processes (default 2 × CPU cores + 1, here {default_workers()})")
        parser.add_argument("--timeout", type=positive_int, default=60,
                            help="请求超时秒数，超时的工作进程被重启 / seconds before a silent worker is restarted (default 60)")

    def handle(self, *args, **options):
        self.collect_static()
        self.warn_unapplied_migrations()
        self.serve(options)

    def collect_static(self) -> None:
        call_command("collectstatic", interactive=False, verbosity=0)
        # Settings fall back to the finders when STATIC_ROOT did not exist at start-up (a
        # first run).  It does now: the workers, forked after this, serve only the
        # collected, compressed files, with far-future caching for the hashed names.
        settings.WHITENOISE_USE_FINDERS = settings.DEBUG
        self.stdout.write(f"静态文件已收集 / Static files collected into {settings.STATIC_ROOT}")

    def warn_unapplied_migrations(self) -> None:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stderr.write(self.style.WARNING(
                "数据库结构不是最新的，请先运行 powercis migrate / "
                "The database schema is behind the code: run `powercis migrate` first."
            ))

    def serve(self, options: dict) -> None:
        host, port = options["bind"], options["port"]
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        workers = options["workers"] or default_workers()
        self.stdout.write(
            f"服务地址 / Serving on http://{address}/  ({workers} workers; Ctrl+C 停止 / to stop)"
        )
        self.stdout.flush()
        # The workers are forked from this process: none may inherit its database connection.
        connections.close_all()
        server = GunicornServer({
            "bind": address,
            "workers": workers,
            "timeout": options["timeout"],
            "accesslog": "-",
            "errorlog": "-",
            "proc_name": "powercis",
            "control_socket_disable": True,
        })
        server.run()
