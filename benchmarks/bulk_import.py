"""Benchmark: validate and commit a 100,000-row customers file, then a 100,000-row accounts file.

Generates both files deterministically (same ``--rows`` and ``--seed`` → the same bytes):
customers with Chinese names, valid identity card numbers or social credit codes and
mobiles, spread over 临江县 and its two supply stations; accounts referencing them, 90 %
residential (RES_T, 220 V), 8 % commercial single-part, 2 % two-part industrial at 10 kV
with 315–2,000 kVA charged by capacity or demand.  Each file is a UTF-8 CSV as Excel's
“CSV UTF-8” writes it (``--format xlsx`` for Excel workbooks).

Then times, through exactly the services the import page calls, as the demo account
manager (custmgr, 临江县 and below): ``validate_upload`` (read, parse, check every cell,
org, key and reference, record the batch) and ``commit`` (validate again inside the
transaction, COPY the rows, one audit record).  The commit figure is split into its
write part (``spec.write``: the COPY of accounts and their first versions) and the rest.
Anything listening to ``accounts_changed`` (the search index refresh) runs after the
transaction, within the commit's time; it is shown as a part of its own.

Run from the repository root:

    .venv/bin/python benchmarks/bulk_import.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/bulk_import.py --rows 20000            # SQLite, a scratch file

PostgreSQL: the URL names the server and login; the scratch database ``bench_bulk``
(``--scratch-db``) is created through the ``postgres`` maintenance database, migrated, given
the demo company, and dropped at the end.  ``--repeat`` imports further file pairs (new
numbers) into the same database and prints each run and the median.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from org_subtree import cpu_model, create_scratch_postgres, database_version, drop_scratch_postgres

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕婷雪梅鹏辉晨宇浩然子涵欣怡"
PLACES = ("临江", "城关", "河口", "青山", "白沙", "江城", "滨江", "东湖")
TRADES = ("机械", "纺织", "食品", "建材", "物流", "商贸", "电子", "化工", "酒店", "超市")
ROADS = ("幸福路", "建设路", "人民路", "解放路", "滨江大道", "工业路", "新华街", "中山路", "学府路", "江汉路")
ORGS = ("HZ010101", "HZ010102", "HZ0101")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="bench_bulk", help="PostgreSQL database to create and drop")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per file (default 100000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=1, help="file pairs to import one after the other")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    return parser.parse_args()


# --- files ----------------------------------------------------------------------


def id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1940, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"4201{rng.randint(0, 99):02d}{birth}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def uscc(rng: random.Random) -> str:
    body = "91420100" + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def generate(rows: int, seed: int, run: int) -> tuple[list[str], list[list], list[str], list[list]]:
    """The customers and the accounts of one run: header and rows of each, the same for the same arguments."""
    rng = random.Random(seed * 1000 + run)
    customer_header = ["客户编号", "客户名称", "客户分类", "证件类型", "证件号码", "手机号码", "通讯地址", "供电单位编码"]
    account_header = ["户号", "客户编号", "用电地址", "立户日期", "用电类别", "供电电压", "电价码", "合同容量(kVA)",
                      "基本电费计收方式", "功率因数考核标准", "计量方式", "行业分类", "缴费方式", "抄表段", "经度", "纬度",
                      "供电单位编码"]
    customers, accounts = [], []
    for i in range(rows):
        kind = rng.random()
        org = ORGS[i % len(ORGS)]
        customer_no = f"R{run}C{i:08d}"
        address = f"临江县{rng.choice(PLACES)}镇{rng.choice(ROADS)}{rng.randint(1, 999)}号"
        if kind < 0.90:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            customers.append([customer_no, name, "LV_R", "身份证", id_number(rng),
                              f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}", address, org])
            usage, voltage, tariff, capacity, basis, pf, mode, industry = (
                "RES_T", "AC220V", "RES-T-220", str(rng.choice((4, 6, 8, 10))), "不计收", "NONE", "LL", "RES")
        else:
            name = f"{rng.choice(PLACES)}{rng.choice(TRADES)}有限公司"
            large = kind >= 0.98
            customers.append([customer_no, name, "HV" if large else "LV_NR", "USCC", uscc(rng),
                              f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}", address, org])
            if large:
                usage, voltage, tariff, capacity, basis, pf, mode, industry = (
                    "CI_2", "AC10KV", "CI2-10KV", str(rng.choice((315, 400, 630, 800, 1000, 1250, 2000))),
                    rng.choice(("按容量", "按需量")), "0.90", "HL", "C")
            else:
                usage, voltage, tariff, capacity, basis, pf, mode, industry = (
                    "CI_1", "AC380V", "CI1-LT1KV", str(rng.choice((20, 30, 50, 80))), "不计收", "NONE", "LL", "F")
        opened = f"{rng.randint(2000, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        accounts.append([f"{run + 1}{i:09d}", customer_no, address, opened, usage, voltage, tariff, capacity, basis,
                         pf, mode, industry, rng.choice(("COUNTER", "WITHHOLD", "AGENT")),
                         f"{org}-R{i // 300:04d}", f"{114.2 + rng.random() * 0.2:.6f}",
                         f"{30.5 + rng.random() * 0.2:.6f}", org])
    return customer_header, customers, account_header, accounts


def to_bytes(header: list[str], rows: list[list], fmt: str) -> bytes:
    if fmt == "xlsx":
        from openpyxl import Workbook

        # a normal workbook, which records the sheet's size up front as Excel does (write-only mode
        # does not, and reading then scans the sheet once more); openpyxl writes text as inline
        # strings, which it reads more slowly than the shared strings Excel writes
        book = Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


# --- machine -------------------------------------------------------------------------


def machine() -> str:
    import django

    try:
        ram = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")).split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        ram = 0.0
    return (f"{cpu_model()}, {os.cpu_count()} cores, {ram:.0f} GB RAM; Python {platform.python_version()}, "
            f"Django {django.get_version()}; {database_version()}; load average {os.getloadavg()[0]:.2f}")


# --- measuring ----------------------------------------------------------------------


class Clock:
    """Times one method of one object (``spec.write``, ``accounts_changed.send``) without changing what it does."""

    def __init__(self, obj, name: str):
        self.obj, self.name, self.seconds = obj, name, 0.0
        self.original = getattr(obj, name)

    def __enter__(self):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        setattr(self.obj, self.name, timed)
        return self

    def __exit__(self, *exc):
        delattr(self.obj, self.name)


def import_file(actor, org, entity: str, content: bytes, name: str) -> dict:
    from powercis.core.bulkio import services, spec
    from powercis.customers.signals import accounts_changed

    start = time.perf_counter()
    batch = services.validate_upload(actor, entity=entity, org=org, file_name=name, content=content)
    validated = time.perf_counter()
    if batch.status != "validated":
        sys.exit(f"{entity}: the generated file did not validate: {services.errors_of(batch)[:5]}")
    with Clock(spec.get(entity), "write") as writing, Clock(accounts_changed, "send") as indexing:
        batch = services.commit(actor, batch)
    committed = time.perf_counter()
    assert batch.status == "committed", batch.status
    return {"rows": batch.row_count, "validate": validated - start, "commit": committed - validated,
            "write": writing.seconds, "index": indexing.seconds, "total": committed - start}


def run(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from powercis.core.context import Actor
    from powercis.core.demo import load_demo
    from powercis.core.models import Org, Staff
    from powercis.customers.models import Account, AccountVersion, Customer
    from powercis.customers.signals import accounts_changed

    call_command("migrate", verbosity=0)
    load_demo()
    actor = Actor(user=Staff.objects.get(username="custmgr"), channel="bench")
    org = Org.objects.get(code="HZ0101")
    print(f"machine: {machine()}")
    print(f"rows per file: {args.rows}; seed {args.seed}; format {args.format}; "
          f"accounts_changed listeners: {len(accounts_changed.receivers)}")
    print()
    print("| run | file | rows | MB | validate s | commit s | of which write s | of which search index s | total s "
          "| rows/s |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    results: dict[str, list[dict]] = {"customers": [], "accounts": [], "both": []}
    for run_no in range(1, args.repeat + 1):
        customer_header, customers, account_header, accounts = generate(args.rows, args.seed, run_no)
        both = {"rows": 0, "validate": 0.0, "commit": 0.0, "write": 0.0, "index": 0.0, "total": 0.0, "size": 0}
        for entity, header, rows in (("customers", customer_header, customers), ("accounts", account_header, accounts)):
            content = to_bytes(header, rows, args.format)
            result = import_file(actor, org, entity, content, f"{entity}-{run_no}.{args.format}")
            result["size"] = len(content)
            results[entity].append(result)
            for key in both:
                both[key] += result[key]
            print(f"| {run_no} | {entity} | {result['rows']} | {len(content) / 1e6:.1f} | {result['validate']:.2f} | "
                  f"{result['commit']:.2f} | {result['write']:.2f} | {result['index']:.2f} | {result['total']:.2f} | "
                  f"{result['rows'] / result['total']:,.0f} |")
        results["both"].append(both)
        print(f"| {run_no} | both | {both['rows']} | {both['size'] / 1e6:.1f} | {both['validate']:.2f} | "
              f"{both['commit']:.2f} | {both['write']:.2f} | {both['index']:.2f} | {both['total']:.2f} | "
              f"{both['rows'] / both['total']:,.0f} |")
    print()
    for entity, runs in results.items():
        print(f"median {entity}: validate {statistics.median(r['validate'] for r in runs):.2f} s, "
              f"commit {statistics.median(r['commit'] for r in runs):.2f} s, "
              f"total {statistics.median(r['total'] for r in runs):.2f} s")
    print(f"in the database: {Customer.objects.count()} customers, {Account.objects.count()} accounts, "
          f"{AccountVersion.objects.count()} account versions")


def main() -> None:
    """A scratch database for the run (as benchmarks/org_subtree.py makes one), removed afterwards."""
    args = parse_args()
    scratch_dir = Path(tempfile.mkdtemp(prefix="powercis-bench-", dir="/tmp"))
    os.environ.update(POWERCIS_VAR_DIR=str(scratch_dir), DJANGO_SETTINGS_MODULE="powercis.settings")
    postgres = args.database_url.startswith(("postgres://", "postgresql://"))
    if args.database_url and not postgres:
        sys.exit("--database-url takes a postgres:// URL; SQLite always uses a scratch file")
    os.environ["POWERCIS_DATABASE_URL"] = (create_scratch_postgres(args.database_url, args.scratch_db) if postgres
                                           else f"sqlite:///{scratch_dir / 'bench.sqlite3'}")
    try:
        run(args)
    finally:
        if postgres:
            from django.db import connections

            connections.close_all()
            drop_scratch_postgres(args.database_url, args.scratch_db)
        shutil.rmtree(scratch_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
