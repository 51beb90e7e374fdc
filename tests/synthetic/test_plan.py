"""The builders without the database: determinism, the account mix, identifiers, load profiles."""

from __future__ import annotations

import re
from collections import Counter

import polars as pl
import pytest

from powercis.synthetic.identity import ID_CHECK, USCC_ALPHABET
from powercis.synthetic.layout import apportion, class_counts
from powercis.synthetic.plan import build_plan
from powercis.synthetic.profiles import (
    DAY_TYPES,
    SHARE_TOTAL,
    default_source_dir,
    derive_profiles,
    largest_remainder,
    shipped_profiles,
)
from powercis.synthetic.services import company_spec

from .conftest import AS_OF

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def valid_id_number(text: str) -> bool:
    """GB 11643: 17 digits and the ISO 7064 MOD 11-2 check character (independent of the generator's code)."""
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(text[:17], ID_WEIGHTS, strict=True)) % 11] == text[17]


def valid_uscc(text: str) -> bool:
    """GB 32100 check character and the GB 11714 check character of the embedded organisation code."""
    if len(text) != 18 or any(c not in USCC_ALPHABET for c in text):
        return False
    check = (31 - sum(USCC_ALPHABET.index(c) * w for c, w in zip(text[:17], USCC_WEIGHTS, strict=True)) % 31) % 31
    org = 11 - sum(int(c, 36) * w for c, w in zip(text[8:16], [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return USCC_ALPHABET[check] == text[17] and {10: "X", 11: "0"}.get(org, str(org)) == text[16]


@pytest.fixture
def spec_of(demo_company):
    def make(accounts=300, seed=7, as_of=AS_OF):
        return company_spec(demo_company, accounts=accounts, seed=seed, as_of=as_of)

    return make


def test_the_same_spec_gives_the_same_rows(spec_of):
    profiles = shipped_profiles()
    first, second = build_plan(spec_of(), profiles), build_plan(spec_of(), profiles)
    assert first.digest() == second.digest()
    for a, b in zip(first.tables, second.tables, strict=True):
        assert a.label == b.label and a.frame.equals(b.frame)
    assert build_plan(spec_of(seed=8), profiles).digest() != first.digest()
    assert build_plan(spec_of(accounts=301), profiles).digest() != first.digest()


def test_rows_depend_on_codes_not_ids(spec_of):
    """Orgs enter the plan by code; no database id appears in any frame."""
    plan = build_plan(spec_of(), shipped_profiles())
    accounts = next(t.frame for t in plan.tables if t.label == "customers.Account")
    assert set(accounts["org"].unique()) == {"HZ010101", "HZ010102", "HZ010201", "HZ020101"}
    assert accounts["id"].to_list() == list(range(300))
    assert accounts["account_no"].str.contains(r"^\d{10}$").all()
    assert accounts["account_no"].n_unique() == 300


def test_mix_is_ninety_eight_two():
    assert class_counts(1_000_000).tolist() == [900_000, 80_000, 20_000]
    assert class_counts(300).tolist() == [270, 24, 6]
    assert apportion(10, pl.Series([1.0, 1.0, 1.0]).to_numpy()).tolist() == [4, 3, 3]


def test_large_plan_mix_and_status_shares(spec_of):
    plan = build_plan(spec_of(accounts=20_000), shipped_profiles())
    accounts = next(t.frame for t in plan.tables if t.label == "customers.Account")
    usage = Counter(accounts["usage_category"].to_list())
    assert usage == {"RES_T": 18_000, "CI_1": 1_600, "CI_2": 400}
    status = Counter(accounts["status"].to_list())
    assert 0.010 <= status["SUSPENDED"] / 20_000 <= 0.020
    assert 0.007 <= status["CLOSED"] / 20_000 <= 0.014
    stations = Counter(accounts["org"].to_list())
    assert min(stations.values()) > 20_000 / 8  # every station, hence every county, carries a real share
    areas = next(t.frame for t in plan.tables if t.label == "grid.TransformerArea")
    public = areas.filter(pl.col("ownership") == "public").height
    assert 18_000 / 300 <= public <= 18_000 / 100  # one public area per 100–300 residential accounts
    assert areas.filter(pl.col("ownership") == "private").height == 400
    feeders = next(t.frame for t in plan.tables if t.label == "grid.Feeder")
    per_substation = Counter(feeders["substation"].to_list())
    assert max(per_substation.values()) <= 35
    routes = Counter(accounts.filter(~pl.col("reading_route_code").str.contains("-Z"))["reading_route_code"])
    assert sum(200 <= n <= 700 for n in routes.values()) >= 0.8 * len(routes)


def test_identifiers_are_valid(spec_of):
    plan = build_plan(spec_of(accounts=2000), shipped_profiles())
    customers = next(t.frame for t in plan.tables if t.label == "customers.Customer")
    ids = customers.filter(pl.col("certificate_type") == "id_card")["certificate_no"].to_list()
    codes = customers.filter(pl.col("certificate_type") == "uscc")["certificate_no"].to_list()
    assert ids and codes
    assert all(valid_id_number(x) for x in ids)
    assert len(set(ids)) == len(ids)
    assert all(valid_uscc(x) for x in codes)
    assert customers["mobile"].str.contains(r"^1[3-9]\d{9}$").all()
    assert set(ID_CHECK.tolist()) == set("10X98765432")


def test_shipped_profiles_are_complete_shapes():
    profiles = shipped_profiles()
    assert 20 <= len(profiles) <= 200
    for profile in profiles:
        assert len(profile["monthly_kwh"]) == 12
        for kind in DAY_TYPES:
            assert len(profile["shapes"][kind]) == 12
            assert all(len(day) == 48 and sum(day) == SHARE_TOTAL for day in profile["shapes"][kind])
    # northern-hemisphere months: the Australian winter (July) is January here, so January uses more than July
    more_in_winter = sum(float(p["monthly_kwh"][0]) > float(p["monthly_kwh"][6]) for p in profiles)
    assert more_in_winter > len(profiles) / 2


@pytest.mark.skipif(not default_source_dir().exists(), reason="the raw SGSC files are not beside the repository")
def test_shipped_profiles_are_what_the_real_data_gives():
    assert derive_profiles(default_source_dir()) == shipped_profiles()


def test_largest_remainder_keeps_the_total():
    assert largest_remainder([1, 1, 1], 100) == [34, 33, 33]
    assert largest_remainder([0.2, 0.0, 0.8], 7) == [1, 0, 6]
    assert largest_remainder([0, 0], 5) == [3, 2]
