"""The ``powercis`` console script: Django's management commands under the project's name.

``powercis <command>`` runs the management command of that name with the powercis
settings, so every command has ``--help``.  ``powercis`` alone (or ``--help``) lists
the commands an operator needs; any other Django command (``check``, ``shell``,
``collectstatic``, …) works too.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

#: (command, one-line description) shown by ``powercis --help``
COMMANDS = (
    ("demo", "载入演示公司与模拟用电户并启动服务 / load the demo company and a synthetic utility, then serve it"),
    ("serve", "以 gunicorn 启动 Web 服务 / serve the web application with gunicorn"),
    ("migrate", "创建或升级数据库结构 / create or upgrade the database schema"),
    ("createadmin", "创建安装管理员（数据范围：全部单位）/ create the installation administrator"),
    ("audit verify", "校验哈希链审计日志 / verify the hash-chained audit trail"),
    ("search rebuild", "重建档案查询索引 / rebuild the archive search index"),
    ("accounts roll-forward", "使到期生效的用电变更生效（每日）/ apply account changes whose date has come (daily)"),
    ("reads ingest", "导入示数文件（采集主站日冻结、抄表清单）/ ingest a file of register reads"),
    ("reads import-sgsc", "导入 SGSC 真实半小时数据为日冻结示数 / import the real SGSC interval data as daily reads"),
    ("collection run", "通过 DL/T 645 采集电能表示数 / read meters over DL/T 645 now (--due: scheduled)"),
    ("dlt645 decode", "解析 DL/T 645-2007 报文为 JSON / decode a DL/T 645-2007 frame as JSON"),
    ("dlt645 encode-read", "生成读数据请求报文 / print the read request frame for an address and DI"),
)

HELP_FLAGS = {"-h", "--help", "help"}


def usage() -> str:
    width = max(len(name) for name, _text in COMMANDS)
    lines = [
        "powercis — 电力营销管理信息系统 / power marketing management information system",
        "",
        "用法 / Usage: powercis <命令 command> [选项 options]",
        "",
        "命令 / Commands:",
        *(f"  {name:<{width}}  {text}" for name, text in COMMANDS),
        "",
        "powercis <命令> --help 显示命令的选项 / shows the options of a command.",
        "其他 Django 管理命令同样可用 / Every other Django management command works too",
        "(powercis help --commands lists them).",
        "配置只来自 POWERCIS_* 环境变量 / Settings come only from POWERCIS_* environment variables (see README.md).",
    ]
    return "\n".join(lines)


def prepare_environment(command: str) -> None:
    """Point Django at the powercis settings; the demo serves plain http on 127.0.0.1, so TLS is off for it."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powercis.settings")
    if command == "demo":
        os.environ.setdefault("POWERCIS_TLS", "0")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (len(args) == 1 and args[0] in HELP_FLAGS):
        print(usage())
        return
    if args == ["--version"]:
        print(f"powercis {metadata.version('powercis')}")
        return
    prepare_environment(args[0])

    from django.core.management import execute_from_command_line

    execute_from_command_line(["powercis", *args])


if __name__ == "__main__":
    main()
