"""Benchmark: the archive search box at 1,000,000 accounts — index rebuild time and query latency by kind.

Fills a scratch database with a synthetic archive (customers, accounts, contacts,
metering points, meters and their installations; COPY on PostgreSQL, multi-row inserts
on SQLite) spread over the demo company's supply stations, rebuilds the search index
with ``powercis.search.indexing.rebuild()`` (timed), then runs a realistic query mix
through ``powercis.search.selectors.search()`` — the function the page and the API
call — as the demo billing clerk of 临江县 (a county-level user with the data scope
"org and below"), and prints p50/p95/max per kind of query and overall, and the machine.

Synthetic data: Chinese personal names (surname weighted by rank, one- or two-character
given name) and 8 % company names; addresses from county › town › road and number, or
residential community › building › unit › room, or village › group; 10-digit account
numbers, 22-digit meter asset numbers, mobile numbers (and some landlines and a second
contact).  Queries are taken from accounts in the user's scope, so each kind finds
something: whole and partial account numbers, 2- and 3-character names, address
fragments, whole and partial meter asset numbers, phone tails, and two-term queries.

Run from the repository root:

    .venv/bin/python benchmarks/search.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/search.py --accounts 200000          # SQLite, a scratch file under /tmp

``--keep`` leaves the scratch database for ``--reuse`` (queries only, no fill or rebuild).
``--from-archive`` uses the accounts already in the database named by ``--database-url``
(e.g. after ``powercis demo --accounts N``): it rebuilds the index and queries it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from org_subtree import cpu_model, create_scratch_postgres, database_version, drop_scratch_postgres

# --- vocabulary -----------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉文斌辉力永健世广义兴良海山仁波宁贵福生龙元"
         "全胜学祥才发武新利清飞彬富顺信子昌成康星光天达安岩中茂进林有坚和博诚先敬震振会思群豪心邦承乐绍功松善厚庆"
         "民友裕河哲江浩亮政谦奇翰朗宏言鸣朋梁栋维启克伦翔旭鹏泽晨辰士家致树德行泰盛雄钧冠策腾楠航")
FIRMS = ("宏达", "恒信", "永盛", "华宇", "金鑫", "瑞丰", "鑫源", "天成", "东方", "新星", "长江", "汇通", "顺发", "兴业",
         "联创", "德润", "嘉禾", "明珠", "通达", "富民")
TRADES = ("机械", "纺织", "食品", "建材", "化工", "电子", "物流", "酒店", "超市", "农业", "水泥", "印染", "塑料", "铸造",
          "家具", "医药", "饲料", "养殖")
FIRM_FORMS = ("有限公司", "有限责任公司", "厂", "专业合作社", "股份有限公司")
ROADS = ("幸福路", "人民路", "建设路", "解放路", "中山路", "和平路", "胜利路", "文化路", "新华路", "光明路", "长江路",
         "滨江路", "朝阳路", "健康路", "民主路", "工业路", "学府路", "青年路", "东风路", "红旗路", "迎宾大道", "环城北路",
         "环城南路", "体育路", "车站路", "府前街", "南门街", "北门街", "西大街", "东大街")
COMMUNITIES = ("阳光小区", "幸福家园", "金色花园", "锦绣华庭", "翠苑小区", "滨江花园", "书香名邸", "和谐家园", "世纪新城",
               "碧水云天", "丽景湾", "东湖小区", "南苑新村", "康乐小区", "紫荆花园", "御景园", "观澜苑", "怡景花园",
               "桂花园", "江南明珠")
VILLAGES = ("张家", "李家", "石桥", "河口", "柳树", "杨庄", "王庄", "新塘", "黄土岭", "双河", "白果", "桃园", "龙潭",
            "马鞍山", "青石", "下湾", "上坪", "沙坝", "枫林", "长岭")
#: county org code → (county name, towns); the stations below each county get its accounts
COUNTIES = {
    "HZ0101": ("临江县", ("城关镇", "东湖镇", "河口镇", "新塘镇", "柳林乡", "石桥镇", "双河乡", "白云镇")),
    "HZ0102": ("青山区", ("青山街道", "红钢城街道", "工人村街道", "钢花村街道", "冶金街道", "白玉山街道")),
    "HZ0201": ("白沙县", ("白沙镇", "沙坝乡", "龙潭镇", "枫林镇", "长岭乡", "桃园乡", "马鞍镇")),
}
#: station code → (county code, share of the accounts)
STATIONS = {"HZ010101": ("HZ0101", 0.30), "HZ010102": ("HZ0101", 0.25), "HZ010201": ("HZ0102", 0.25),
            "HZ020101": ("HZ0201", 0.20)}
USER = "clerk"  # 张静, billing clerk of 临江县供电公司 (HZ0101), scope: org and below


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="postgres://user@host:port/db of the server to use (default: SQLite under /tmp)")
    parser.add_argument("--scratch-db", default="powercis_bench_search", help="PostgreSQL database to create and drop")
    parser.add_argument("--accounts", type=int, default=1_000_000, help="accounts to generate (default 1000000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--queries", type=int, default=100, help="queries per kind (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (for --reuse)")
    parser.add_argument("--reuse", action="store_true", help="query the kept scratch database: no fill, no rebuild")
    parser.add_argument("--from-archive", action="store_true",
                        help="use the accounts already in --database-url (no scratch database): rebuild and query")
    parser.add_argument("--explain", action="store_true", help="print the plan of the slowest query of each kind")
    return parser.parse_args()


# --- synthetic archive ------------------------------------------------------------------


def person_name(rng: random.Random) -> str:
    surname = SURNAMES[min(int(rng.paretovariate(0.9)) - 1, len(SURNAMES) - 1)]
    return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))


def firm_name(rng: random.Random, county: str) -> str:
    return f"{county[:2]}{rng.choice(FIRMS)}{rng.choice(TRADES)}{rng.choice(FIRM_FORMS)}"


def address(rng: random.Random, county: str, towns: tuple[str, ...]) -> str:
    town = rng.choice(towns)
    pick = rng.random()
    if pick < 0.45:
        return f"{county}{town}{rng.choice(ROADS)}{rng.randint(1, 300)}号"
    if pick < 0.80:
        return (f"{county}{town}{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元"
                f"{rng.randint(1, 18)}{rng.randint(1, 4):02d}室")
    return f"{county}{town}{rng.choice(VILLAGES)}村{rng.randint(1, 12)}组{rng.randint(1, 80)}号"


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10 ** 9):09d}"


def _default(field):
    """What a COPY must write for a column the generator leaves out (Django defaults live in Python)."""
    from django.utils import timezone

    if field.has_default():
        value = field.get_default()
    elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
        value = timezone.now()
    elif field.null:
        value = None
    else:
        value = ""
    return json.dumps(value) if field.get_internal_type() == "JSONField" else value


def write_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk-write rows of ``model`` (COPY on PostgreSQL, multi-row inserts on SQLite), Python defaults filled in."""
    from django.db import connection

    missing = [f for f in model._meta.concrete_fields if f.attname not in columns]
    names = [*columns, *(f.column for f in missing)]
    extra = tuple(_default(f) for f in missing)
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(n) for n in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + extra)
            return
        per_statement = 30_000 // len(names)
        placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(f"INSERT INTO {table} ({column_list}) VALUES {', '.join([placeholders] * len(chunk))}",
                           [value for row in chunk for value in row + extra])


def fill_archive(total: int, seed: int, chunk: int = 100_000) -> None:
    """Write ``total`` accounts with their customers, contacts, metering points, meters and installations."""
    import datetime as dt

    from django.core.management.color import no_style
    from django.db import connection, transaction

    from powercis.core.models import Org
    from powercis.customers.models import Account, Customer, CustomerContact
    from powercis.metering.models import Meter, MeteringPoint, MeterInstallation

    rng = random.Random(seed)
    orgs = {o.code: o for o in Org.objects.filter(code__in=[*STATIONS, *COUNTIES])}
    company_id = orgs["HZ010101"].company_id
    stations = list(STATIONS)
    weights = [STATIONS[s][1] for s in stations]
    serial = {county: itertools.count(1) for county in COUNTIES}
    county_prefix = {county: str(31 + i) for i, county in enumerate(COUNTIES)}
    meter_numbers = rng.sample(range(10 ** 12), total)
    opened = dt.date(2015, 1, 1)
    for start in range(0, total, chunk):
        customers, accounts, contacts, points, meters, installs = [], [], [], [], [], []
        for n in range(start + 1, min(start + chunk, total) + 1):
            org = orgs[rng.choices(stations, weights)[0]]
            county_code = STATIONS[org.code][0]
            county, towns = COUNTIES[county_code]
            firm = rng.random() < 0.08
            name = firm_name(rng, county) if firm else person_name(rng)
            phone = f"0{rng.randint(710, 719)}-{rng.randint(2000000, 8999999)}" if rng.random() < 0.10 else ""
            scope = (company_id, org.pk, org.path)
            customers.append((n, *scope, f"C{n:010d}", name, "HV" if firm else "LV_R",
                              mobile(rng) if rng.random() < 0.95 else "", phone, address(rng, county, towns)))
            if rng.random() < 0.25:
                contacts.append((n, n, person_name(rng), mobile(rng)))
            account_no = f"{county_prefix[county_code]}{next(serial[county_code]):08d}"
            accounts.append((n, *scope, n, account_no, name, customers[-1][-1], "CI_2" if firm else "RES_T",
                             "AC10KV" if firm else "AC220V", opened + dt.timedelta(days=n % 3000)))
            points.append((n, *scope, f"MP{n:010d}", n, "AC10KV" if firm else "AC220V"))
            meters.append((n, *scope, f"3330001{meter_numbers[n - 1]:015d}", "installed"))
            installs.append((n, n, n, opened + dt.timedelta(days=n % 3000)))
        with transaction.atomic():
            write_rows(Customer, ("id", "company_id", "org_id", "org_path", "customer_no", "name", "customer_type",
                                  "mobile", "phone", "address"), customers)
            write_rows(CustomerContact, ("id", "customer_id", "name", "mobile"), contacts)
            write_rows(Account, ("id", "company_id", "org_id", "org_path", "customer_id", "account_no", "name",
                                 "service_address", "usage_category", "voltage_level", "opened_on"), accounts)
            write_rows(MeteringPoint, ("id", "company_id", "org_id", "org_path", "code", "account_id",
                                       "voltage_level"), points)
            write_rows(Meter, ("id", "company_id", "org_id", "org_path", "asset_no", "status"), meters)
            write_rows(MeterInstallation, ("id", "metering_point_id", "meter_id", "installed_on"), installs)
        print(f"  archive: {min(start + chunk, total):,} accounts", file=sys.stderr)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
                no_style(), [Customer, CustomerContact, Account, MeteringPoint, Meter, MeterInstallation]):
            cursor.execute(sql)
        cursor.execute("ANALYZE")


# --- queries ------------------------------------------------------------------------


def _fragment(rng: random.Random, address_text: str) -> str:
    """A piece of an address as a clerk would type it: 3 to 6 characters of its words."""
    words = [w for w in re.sub(r"\d+", " ", address_text).split() if len(w) >= 3]
    word = rng.choice(words)
    if len(word) <= 4:
        return word
    size = rng.randint(3, min(6, len(word)))
    start = rng.randrange(len(word) - size + 1)
    return word[start:start + size]


def query_mix(user, per_kind: int, seed: int) -> dict[str, list[str]]:
    """Queries of each kind taken from random accounts in the user's scope."""
    from django.db.models import Max, Min

    from powercis.core import authz
    from powercis.search.models import AccountSearchEntry
    from powercis.search.selectors import SEARCH_PERMS

    rng = random.Random(seed + 1)
    scoped = authz.restrict_any(AccountSearchEntry.objects.all(), user, SEARCH_PERMS, path_field="org_path")
    bounds = scoped.aggregate(low=Min("account_id"), high=Max("account_id"))
    picks = rng.sample(range(bounds["low"], bounds["high"] + 1), min(per_kind * 40, bounds["high"] - bounds["low"] + 1))
    rows = list(scoped.filter(account_id__in=picks).values("account_no", "name", "address", "meters", "keys"))
    rng.shuffle(rows)
    kinds: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        tails = [k for k in r["keys"].split() if len(k) == 4 and k.isdigit()]
        candidates = {
            "account no, whole": r["account_no"],
            "account no, first 4-7 digits": r["account_no"][:rng.randint(4, 7)],
            "account no, last 6 digits": r["account_no"][-6:],
            "address fragment": _fragment(rng, r["address"]),
            "meter asset no, whole": r["meters"][0] if r["meters"] else "",
            "meter asset no, last 8 digits": r["meters"][0][-8:] if r["meters"] else "",
            "phone, last 4 digits": tails[0] if tails else "",
        }
        if len(r["name"]) <= 3:
            candidates["name, 2 characters"] = r["name"][:2] if rng.random() < 0.6 else r["name"][-2:]
            candidates["name + phone tail"] = f"{r['name']} {tails[0]}" if tails else ""
            candidates["name + address fragment"] = f"{r['name'][:2]} {_fragment(rng, r['address'])}"
        if len(r["name"]) == 3:
            candidates["name, 3 characters"] = r["name"]
        for kind, q in candidates.items():
            if q and len(kinds[kind]) < per_kind:
                kinds[kind].append(q)
    return dict(kinds)


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


def measure(user, kinds: dict[str, list[str]], explain: bool) -> None:
    from powercis.search import selectors, text

    for qs in kinds.values():  # warm-up: one pass over a few queries of each kind
        for q in qs[:3]:
            selectors.search(user, q)
    order = [(kind, q) for kind, qs in kinds.items() for q in qs]
    random.Random(7).shuffle(order)
    samples: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[int]] = defaultdict(list)
    slowest: dict[str, tuple[float, str]] = {}
    for kind, q in order:
        start = time.perf_counter_ns()
        result = selectors.search(user, q)
        ms = (time.perf_counter_ns() - start) / 1e6
        samples[kind].append(ms)
        found[kind].append(len(result.hits))
        if ms > slowest.get(kind, (0.0, ""))[0]:
            slowest[kind] = (ms, q)
    everything = [ms for values in samples.values() for ms in values]
    print("| kind of query | queries | median hits | p50 ms | p95 ms | max ms | slowest query |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for kind, values in samples.items():
        print(f"| {kind} | {len(values)} | {statistics.median(found[kind]):.0f} | {percentile(values, 50):.1f} | "
              f"{percentile(values, 95):.1f} | {max(values):.1f} | `{slowest[kind][1]}` |")
    print(f"| **all** | {len(everything)} | | **{percentile(everything, 50):.1f}** | "
          f"**{percentile(everything, 95):.1f}** | **{max(everything):.1f}** | |")
    if explain:
        for kind, (ms, q) in slowest.items():
            print(f"\n--- {kind}: {q!r} ({ms:.1f} ms)")
            for rank, queryset, ordered in selectors.tiers(user, text.parse(q).terms):
                queryset = queryset.order_by("account_key", "account_id")[:51] if ordered else queryset[:200]
                print(f"tier {rank}{' in account-number order' if ordered else ''}:")
                print(queryset.explain(**({"analyze": True, "buffers": True} if _postgres() else {})))


def _postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def ram_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def table_sizes() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_table_size('search_accountsearchentry')), "
                       "pg_size_pretty(pg_indexes_size('search_accountsearchentry'))")
        table, indexes = cursor.fetchone()
    return f"; index table {table}, its indexes {indexes}"


def run(args: argparse.Namespace) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from powercis.core.demo import load_demo
    from powercis.core.models import Staff
    from powercis.search import indexing
    from powercis.search.models import AccountSearchEntry

    if not args.reuse:
        if not args.from_archive:
            call_command("migrate", verbosity=0)
            load_demo()
            started = time.perf_counter()
            fill_archive(args.accounts, args.seed)
            print(f"archive of {args.accounts:,} accounts written in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        result = indexing.rebuild()
        print(f"rebuild(): {result.rows:,} index rows in {result.seconds:.1f} s "
              f"(of which creating the indexes again {result.index_seconds:.1f} s){table_sizes()}")
    user = Staff.objects.get(username=USER)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {ram_gb():.0f} GB RAM; Python "
          f"{platform.python_version()}; Django {django.get_version()}; {database_version()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"index rows: {AccountSearchEntry.objects.count():,}; user: {USER} ({user.org.name}, org and below)")
    print()
    measure(user, query_mix(user, args.queries, args.seed), args.explain)


def main() -> None:
    args = parse_args()
    scratch_dir = Path(tempfile.mkdtemp(prefix="powercis-bench-search-", dir="/tmp"))
    os.environ.setdefault("POWERCIS_VAR_DIR", str(scratch_dir))
    os.environ["DJANGO_SETTINGS_MODULE"] = "powercis.settings"
    postgres = args.database_url.startswith(("postgres://", "postgresql://"))
    scratch = not args.from_archive
    if args.from_archive:
        if not args.database_url:
            sys.exit("--from-archive needs --database-url (the database holding the archive)")
        os.environ["POWERCIS_DATABASE_URL"] = args.database_url
    elif postgres:
        url = urlsplit(args.database_url)._replace(path=f"/{args.scratch_db}").geturl()
        os.environ["POWERCIS_DATABASE_URL"] = (url if args.reuse
                                               else create_scratch_postgres(args.database_url, args.scratch_db))
    elif args.database_url:
        sys.exit("--database-url takes a postgres:// URL; SQLite always uses a scratch file")
    else:
        sqlite_file = Path(tempfile.gettempdir()) / "powercis-bench-search.sqlite3"
        if not args.reuse:
            for leftover in sqlite_file.parent.glob(sqlite_file.name + "*"):
                leftover.unlink()
        os.environ["POWERCIS_DATABASE_URL"] = f"sqlite:///{sqlite_file}"
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if scratch and not args.keep:
            if postgres:
                drop_scratch_postgres(args.database_url, args.scratch_db)
            else:
                for leftover in sqlite_file.parent.glob(sqlite_file.name + "*"):
                    leftover.unlink()
        shutil.rmtree(scratch_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
