"""Generation into the database: the rows match the plan, the archive invariants hold, one audit record, idempotent."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Q

from powercis.core import codelists
from powercis.core.context import Actor
from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord, DataScope, Org, Post
from powercis.core.services import posts as post_services
from powercis.core.services import staff as staff_services
from powercis.customers.models import Account, AccountVersion, Customer, CustomerContact
from powercis.customers.selectors import account_as_of, visible_accounts
from powercis.grid.models import Building, Community, Feeder, Substation, Transformer, TransformerArea
from powercis.metering.models import (
    InstrumentTransformer,
    Meter,
    MeteringPoint,
    MeterInstallation,
    TransformerInstallation,
)
from powercis.synthetic.models import AccountLoad, GenerationRun, LoadProfile
from powercis.synthetic.plan import build_plan
from powercis.synthetic.profiles import shipped_profiles
from powercis.synthetic.services import company_spec, generate

from .conftest import ACCOUNTS, AS_OF
from .test_plan import valid_id_number, valid_uscc

MODELS = (Substation, Feeder, Community, Building, TransformerArea, Transformer, Customer, CustomerContact, Account,
          AccountVersion, MeteringPoint, Meter, InstrumentTransformer, MeterInstallation, TransformerInstallation,
          AccountLoad)


def counts():
    return {m._meta.label: m.objects.count() for m in MODELS}


def test_generated_rows_are_the_plan(generated, demo_company):
    before = counts()
    result = generated()
    assert result.created
    plan = build_plan(company_spec(demo_company, accounts=ACCOUNTS, seed=7, as_of=AS_OF), shipped_profiles())
    assert result.run.digest == plan.digest()
    assert {label: counts()[label] - before[label] for label in before} == plan.counts() == result.report.rows
    frame = next(t.frame for t in plan.tables if t.label == "customers.Account")
    expected = set(zip(frame["account_no"], frame["name"], frame["usage_category"], frame["status"],
                       frame["opened_on"], frame["service_address"], frame["tariff_code"], strict=True))
    stored = set(Account.objects.filter(company=demo_company).values_list(
        "account_no", "name", "usage_category", "status", "opened_on", "service_address", "tariff_code"))
    assert stored == expected
    assert result.run.accounts == ACCOUNTS and result.run.seed == 7 and result.run.as_of == AS_OF


def test_accounts_use_the_code_tables_and_valid_identifiers(generated, demo_company):
    generated()
    company = demo_company.pk
    accounts = Account.objects.filter(company=company)
    for field, table in [("usage_category", "usage_category"), ("voltage_level", "voltage_level"),
                         ("pf_standard", "pf_standard"), ("metering_mode", "metering_mode"),
                         ("payment_method", "payment_method"), ("importance_level", "importance_level"),
                         ("industry_class", "industry_class"), ("status", "account_status")]:
        used = set(accounts.values_list(field, flat=True))
        assert used and used <= set(codelists.codes_of(company, table)), field
    assert set(Customer.objects.values_list("customer_type", flat=True)) == {"LV_R", "LV_NR", "HV"}
    for kind, number in Customer.objects.values_list("certificate_type", "certificate_no"):
        assert valid_id_number(number) if kind == "id_card" else valid_uscc(number)
    assert set(accounts.values_list("capacity_basis", flat=True)) <= {"none", "capacity", "demand"}
    two_part = accounts.filter(usage_category="CI_2")
    assert two_part.exists() and not two_part.filter(contract_capacity__lt=315).exists()
    assert not two_part.exclude(pf_standard="0.90").exists()
    assert not accounts.filter(usage_category="CI_1", contract_capacity__gte=100).exclude(pf_standard="0.85").exists()
    assert not accounts.filter(usage_category="RES_T").exclude(pf_standard="NONE", voltage_level="AC220V").exists()
    for account in accounts.exclude(status="NORMAL"):
        assert account.running_capacity == 0


def test_versions_start_at_opening_and_record_suspensions_and_closings(generated):
    generated()
    versions = defaultdict(list)
    for version in AccountVersion.objects.order_by("account_id", "valid_from"):
        versions[version.account_id].append(version)
    accounts = list(Account.objects.all())
    assert len(versions) == len(accounts) == ACCOUNTS
    statuses = Counter(a.status for a in accounts)
    assert statuses["SUSPENDED"] and statuses["CLOSED"], statuses
    for account in accounts:
        history = versions[account.pk]
        assert history[0].valid_from == account.opened_on and history[0].status == "NORMAL"
        assert [v.valid_to for v in history[:-1]] == [v.valid_from for v in history[1:]]
        assert history[-1].valid_to is None
        assert account_as_of(account, AS_OF).status == account.status
        if account.status == "SUSPENDED":
            assert [v.status for v in history] == ["NORMAL", "SUSPENDED", "NORMAL"]
            assert history[1].valid_from <= AS_OF < history[2].valid_from and history[2].scheduled_resumption
            assert history[2].running_capacity == account.contract_capacity
        elif account.status == "CLOSED":
            assert [v.status for v in history] == ["NORMAL", "CLOSED"]
            assert history[1].valid_from == account.closed_on <= AS_OF
        else:
            assert len(history) == 1 and account.closed_on is None


def test_every_account_has_one_metered_settlement_point(generated):
    generated()
    metered = Q(meter_installations__isnull=False)
    for account in Account.objects.annotate(
            main=Count("metering_points", filter=Q(metering_points__kind="settlement", metering_points__parent=None)),
            installed=Count("metering_points__meter_installations",
                            filter=Q(metering_points__meter_installations__removed_on__isnull=True)),
            removed=Count("metering_points__meter_installations",
                          filter=Q(metering_points__meter_installations__removed_on__isnull=False))):
        assert account.main == 1
        if account.status == "CLOSED":
            assert (account.installed, account.removed) == (0, 1)
        else:
            assert (account.installed, account.removed) == (1, 0)
    closed = MeterInstallation.objects.filter(removed_on__isnull=False).select_related("meter", "metering_point")
    for installation in closed:
        assert installation.meter.status == "removed" and not installation.metering_point.is_active
        assert installation.removed_on == installation.metering_point.account.closed_on
        reads = installation.removal_reads
        assert set(reads) == set(installation.meter.registers)
        tou = [r for r in ("sharp", "peak", "flat", "valley") if r in reads]
        if tou:
            assert sum(Decimal(reads[r]) for r in tou) == Decimal(reads["total"])
    children = MeteringPoint.objects.filter(parent__isnull=False)
    assert children.exists()
    for child in children.select_related("parent"):
        assert child.kind == "settlement" and child.account_id == child.parent.account_id
        assert child.deduction in ("fixed_quantity", "fixed_ratio") and child.usage_category in ("CI_1", "RES")
        assert not child.meter_installations.exists()
        if child.deduction == "fixed_ratio":
            assert Decimal("0.05") <= child.deduction_value <= Decimal("0.20")
        else:
            assert 300 <= child.deduction_value <= 2000
    assert not MeteringPoint.objects.filter(kind="settlement", parent=None).exclude(metered).exists()


def test_multiplier_is_ct_ratio_times_pt_ratio(generated):
    generated()
    kinds = defaultdict(list)
    ratio = defaultdict(dict)  # point → kind → the ratio all its CTs (or PTs) share
    for inst in TransformerInstallation.objects.select_related("transformer"):
        kinds[inst.metering_point_id].append(inst.transformer.kind)
        assert ratio[inst.metering_point_id].setdefault(inst.transformer.kind, inst.transformer.ratio) == \
            inst.transformer.ratio
    ratios = defaultdict(lambda: Decimal(1), {
        point: by_kind.get("CT", Decimal(1)) * by_kind.get("PT", Decimal(1)) for point, by_kind in ratio.items()})
    points = MeteringPoint.objects.all()
    assert points.filter(multiplier__gte=1000).exists()  # HV points: CT × PT 10000/100
    for point in points:
        assert point.multiplier == ratios[point.pk], point.code
    hv = MeteringPoint.objects.filter(account__metering_mode="HH", parent=None)
    assert hv.exists()
    for point in hv:
        assert sorted(kinds[point.pk]) == ["CT", "CT", "PT", "PT"]


def test_every_area_has_an_assessment_point_and_a_transformer(generated):
    generated()
    areas = TransformerArea.objects.annotate(
        assessment=Count("metering_points", filter=Q(metering_points__kind="assessment"), distinct=True),
        n_transformers=Count("transformers", distinct=True))
    assert areas.exists()
    for area in areas:
        assert (area.assessment, area.n_transformers) == (1, 1), area.code
    for point in MeteringPoint.objects.filter(kind="assessment"):
        assert point.meter_installations.filter(removed_on__isnull=True).count() == 1
        assert point.transformer_installations.count() == 3
    private = TransformerArea.objects.filter(ownership="private")
    assert private.count() == Account.objects.filter(usage_category="CI_2").count()
    assert not Feeder.objects.filter(substation__isnull=True).exists()
    assert not TransformerArea.objects.filter(feeder__isnull=True).exists()
    for area in TransformerArea.objects.all()[:20]:
        assert area.geometry["type"] == "Polygon" and len(area.geometry["coordinates"][0]) == 5
    for feeder in Feeder.objects.all():
        assert feeder.geometry["type"] == "LineString" and len(feeder.geometry["coordinates"]) >= 2
    for account in Account.objects.all():
        assert 113.0 < account.longitude < 115.5 and 29.8 < account.latitude < 31.8


def test_data_scope_spreads_accounts_over_the_counties(generated, staff, org):
    generated()
    by_county = Counter()
    for path in Account.objects.values_list("org_path", flat=True):
        by_county[path.split("/")[2]] += 1  # company / city / county / station
    counties = {o.code: f"{o.pk:09d}" for o in Org.objects.filter(level="county")}
    assert all(by_county[counties[c]] > 0 for c in ("HZ0101", "HZ0102", "HZ0201"))
    clerk = staff("clerk")  # billing clerk of HZ0101
    mine = set(visible_accounts(clerk).values_list("pk", flat=True))
    assert mine and all(p.startswith(org("HZ0101").path) for p in
                        Account.objects.filter(pk__in=mine).values_list("org_path", flat=True))
    # a billing clerk of 青山区 (HZ0102) sees other accounts, none of 临江县's
    system = Actor.as_system("test")
    other, _pw = staff_services.create_staff(system, username="clerk2", full_name="王芳", org=org("HZ0102"),
                                             password="Powercis@2026", must_change_password=False)
    post_services.bootstrap_grant(system, staff=other, post=Post.objects.get(code="billing_clerk"),
                                  org=org("HZ0102"), scope=DataScope.SUBTREE)
    theirs = set(visible_accounts(other).values_list("pk", flat=True))
    assert theirs and not theirs & mine
    assert visible_accounts(staff("reader")).count() < len(mine)  # a station user sees one station only


def test_one_audit_record_and_a_second_run_changes_nothing(generated, demo_company):
    records = AuditRecord.objects.count()
    result = generated()
    assert AuditRecord.objects.count() == records + 1
    record = AuditRecord.objects.order_by("-seq").first()
    assert record.action == "generate" and record.actor_id is None
    assert record.changes["accounts"] == ACCOUNTS and record.changes["seed"] == 7
    assert record.changes["rows"]["customers.Account"] == ACCOUNTS
    assert record.object_type == "synthetic.generationrun" and record.object_id == str(result.run.pk)
    before = counts()
    again = generated(accounts=ACCOUNTS * 2, seed=8)
    assert not again.created and again.run == result.run
    assert counts() == before and AuditRecord.objects.count() == records + 1
    assert GenerationRun.objects.count() == 1


def test_loads_follow_the_profiles(generated):
    generated()
    assert LoadProfile.objects.count() == len(shipped_profiles())
    loads = AccountLoad.objects.select_related("account", "profile")
    assert loads.count() == ACCOUNTS
    for load in loads:
        monthly = load.profile.mean_monthly_kwh * load.scale
        if load.account.usage_category == "RES_T":
            assert Decimal(49) <= monthly <= Decimal(901)
        else:
            hours = monthly / (load.account.contract_capacity * Decimal("0.85"))
            assert Decimal("0.08") * 730 - 1 <= hours <= Decimal("0.55") * 730 + 1
    residential = [x.profile.mean_monthly_kwh * x.scale for x in loads if x.account.usage_category == "RES_T"]
    assert Decimal(150) <= sorted(residential)[len(residential) // 2] <= Decimal(300)


def test_meters_have_registers_digits_and_install_reads(generated):
    generated()
    for meter in Meter.objects.all():
        assert meter.registers[0] == "total" and meter.digits in (6, 8)
        installation = meter.installations.get()
        assert installation.install_reads == {r: "0.00" for r in meter.registers}
    assert set(Meter.objects.values_list("phase", flat=True)) == {"1P", "3P4W", "3P3W"}
    assert json.loads(json.dumps(Meter.objects.filter(phase="3P3W").first().registers)) == [
        "total", "sharp", "peak", "flat", "valley", "reactive", "demand"]


def test_search_index_is_rebuilt(generated):
    from powercis.search.models import AccountSearchEntry

    result = generated(rebuild_search=True)
    assert result.search_rows == ACCOUNTS
    assert AccountSearchEntry.objects.count() == ACCOUNTS


def test_a_person_needs_the_import_and_edit_permissions(actor, demo_company):
    with pytest.raises(NotAuthorized):
        generate(actor("clerk"), company=demo_company, accounts=10, as_of=AS_OF)
    assert not Account.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk mode drops and recreates PostgreSQL indexes")
def test_bulk_mode_restores_every_index_and_constraint(generated):
    from powercis.synthetic.writer import secondary_objects

    tables = [m._meta.db_table for m in MODELS]

    def schema():
        with connection.cursor() as cursor:
            constraints, indexes = secondary_objects(cursor, tables)
            cursor.execute("SELECT conrelid::regclass::text, conname, convalidated, condeferrable, condeferred "
                           "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", [tables])
            flags = cursor.fetchall()
        return sorted(constraints), sorted(indexes), flags

    before = schema()
    assert len(before[0]) > 30 and len(before[1]) > 30  # FKs, unique keys and indexes of 16 tables
    result = generated(bulk=True)
    assert result.report.bulk_mode and "create indexes" in result.report.seconds
    assert schema() == before
    assert Account.objects.count() == ACCOUNTS
    assert not MeteringPoint.objects.filter(account__isnull=False).exclude(account__in=Account.objects.all()).exists()


@pytest.mark.parametrize("accounts, seed, field", [(-1, 1, "accounts"), (21_000_000, 1, "accounts"), (10, -5, "seed")])
def test_bad_parameters_are_refused_with_nothing_written(generated, accounts, seed, field):
    with pytest.raises(ValidationFailed) as refused:
        generated(accounts=accounts, seed=seed)
    assert field in refused.value.fields
    assert not Account.objects.exists() and not GenerationRun.objects.exists()


def test_business_rows_do_not_depend_on_ids_already_taken(generated, demo_company, org, system_actor):
    """Rows already in the tables shift every id; the generated business rows and their digest stay the same."""
    import datetime as dt

    from powercis.customers.services.records import create_customer, open_account

    customer = create_customer(system_actor, org=org("HZ010101"), customer_no="X-1", name="先到客户",
                               customer_type="LV_R")
    first = open_account(system_actor, customer=customer, org=org("HZ010101"), account_no="X-1",
                         service_address="临江县城关镇", opened_on=dt.date(2020, 1, 1), usage_category="RES_T",
                         voltage_level="AC220V")
    result = generated()
    plan = build_plan(company_spec(demo_company, accounts=ACCOUNTS, seed=7, as_of=AS_OF), shipped_profiles())
    assert result.run.digest == plan.digest()
    generated_accounts = Account.objects.exclude(pk=first.pk)
    assert min(generated_accounts.values_list("pk", flat=True)) > first.pk
    frame = next(t.frame for t in plan.tables if t.label == "customers.Account")
    assert sorted(generated_accounts.values_list("account_no", "customer__customer_no")) == sorted(
        zip(frame["account_no"], "C" + frame["account_no"], strict=True))
    points = MeteringPoint.objects.filter(account__in=generated_accounts, parent=None)
    assert all(code == f"{no}01" for code, no in points.values_list("code", "account__account_no"))
