"""``selectors.search``: each kind of match, ranking, data scope, and what is (not) stored in the index."""

from __future__ import annotations

import pytest

from powercis.search import indexing, selectors
from powercis.search.models import AccountSearchEntry
from tests import archive_factory as make

pytestmark = pytest.mark.django_db


def found(user, q, **kwargs) -> list[str]:
    return [hit.account_no for hit in selectors.search(user, q, **kwargs).hits]


def only_hit(user, q):
    result = selectors.search(user, q)
    assert len(result.hits) == 1, [h.account_no for h in result.hits]
    return result.hits[0]


def test_whole_account_number_is_an_exact_match(archive, staff):
    hit = only_hit(staff("clerk"), "3100000001")
    assert (hit.account_id, hit.rank, hit.matched) == (archive["zhangwei"].pk, 0, ("account_no",))
    assert (hit.name, hit.address, hit.status, hit.org_name) == ("张伟", "临江县城关镇幸福路12号", "NORMAL", "城关供电所")


def test_part_of_an_account_number_matches_its_start_or_anywhere(archive, staff):
    clerk = staff("clerk")
    assert found(clerk, "31000000") == ["3100000001", "3100000002"]
    assert [h.rank for h in selectors.search(clerk, "31000000").hits] == [1, 1]
    assert found(clerk, "31") == ["3100000001", "3100000002", "3100000103"]  # two digits: the start only
    assert found(clerk, "00") == []
    hit = only_hit(clerk, "000103")
    assert (hit.account_no, hit.rank, hit.matched) == ("3100000103", 2, ("account_no",))
    assert found(clerk, "３１０００００００２") == ["3100000002"]  # full-width digits from a Chinese keyboard


def test_chinese_names_match_whole_or_in_part_with_two_characters(archive, staff):
    clerk = staff("clerk")
    result = selectors.search(clerk, "张伟")
    assert [(h.account_no, h.rank) for h in result.hits] == [("3100000001", 0), ("3100000002", 1)]
    assert all(h.matched == ("name",) for h in result.hits)
    assert found(clerk, "伟明") == ["3100000002"]
    assert found(clerk, "张伟明") == ["3100000002"]
    hit = only_hit(clerk, "宏达机械")
    assert (hit.account_no, hit.rank) == ("3100000103", 2)


def test_addresses_match_in_part(archive, staff):
    clerk = staff("clerk")
    assert found(clerk, "幸福路") == ["3100000001"]
    assert found(clerk, "幸福") == ["3100000001"]
    assert found(clerk, "城关镇") == ["3100000001", "3100000002"]
    assert found(clerk, "工业路1号") == ["3100000103"]
    assert selectors.search(clerk, "人民路").hits[0].matched == ("address",)


def test_meter_asset_numbers_match_whole_or_in_part(archive, staff):
    clerk = staff("clerk")
    hit = only_hit(clerk, "3330001000000000012345")
    assert (hit.account_no, hit.rank, hit.matched, hit.meters) == (
        "3100000001", 0, ("meter",), ["3330001000000000012345"])
    assert found(clerk, "00012345") == ["3100000001"]
    assert found(clerk, "99999") == []  # that meter is in 青山区, outside the clerk's scope


def test_phone_tails_of_customer_and_contacts_match_exactly(archive, staff, actor, django_capture_on_commit_callbacks):
    from powercis.customers.services import records

    clerk = staff("clerk")
    hit = only_hit(clerk, "5678")
    assert (hit.account_no, hit.rank, hit.matched, hit.phones) == ("3100000001", 0, ("phone",), ["138****5678"])
    assert found(clerk, "2222") == ["3100000002"]  # the landline
    assert found(clerk, "678") == []  # a phone is found by its last four digits only
    with django_capture_on_commit_callbacks(execute=True):
        records.add_contact(actor("custmgr"), archive["factory"].customer, name="王厂长", mobile="13700004321")
    assert found(clerk, "4321") == ["3100000103"]


def test_the_index_never_holds_a_whole_phone_number(archive):
    for entry in AccountSearchEntry.objects.all():
        stored = " ".join([entry.search_text, entry.keys, *entry.phones, entry.account_no, entry.name])
        for number in ("13812345678", "13900001111", "5552222", "0716"):
            assert number not in stored


def test_every_term_must_match(archive, staff):
    clerk = staff("clerk")
    assert found(clerk, "张伟 人民路") == ["3100000002"]
    assert found(clerk, "张伟 5678") == ["3100000001"]
    assert found(clerk, "张伟 宏达") == []
    assert found(clerk, "张伟\u3000幸福路") == ["3100000001"]  # an ideographic space separates terms too
    result = selectors.search(clerk, "张伟 x")
    assert result.query.ignored == ("x",) and len(result.hits) == 2


@pytest.mark.parametrize("candidates", [200, 1], ids=["all matches read at once", "tier by tier"])
def test_exact_matches_rank_before_prefixes_before_the_rest(staff, django_capture_on_commit_callbacks, monkeypatch,
                                                            candidates):
    monkeypatch.setattr(selectors, "CANDIDATES", candidates)
    clerk = staff("clerk")
    with django_capture_on_commit_callbacks(execute=True):
        # account numbers run against the expected order, so that sorting by number alone would fail
        for number, name in (("3100000901", "李王芳"), ("3100000902", "王芳华"), ("3100000903", "王芳"),
                             ("3100000904", "王芳芳")):
            make.account("HZ010101", owner=make.customer("HZ010101", name=name), account_no=number,
                         service_address="临江县城关镇光明路1号")
    expected = [("王芳", 0), ("王芳华", 1), ("王芳芳", 1), ("李王芳", 2)]
    assert [(h.name, h.rank) for h in selectors.search(clerk, "王芳").hits] == expected
    for limit in (1, 2, 3):
        result = selectors.search(clerk, "王芳", limit=limit)
        assert [(h.name, h.rank) for h in result.hits] == expected[:limit] and result.more
    assert found(clerk, "31000009") == ["3100000901", "3100000902", "3100000903", "3100000904"]
    assert found(clerk, "31000009", limit=2) == ["3100000901", "3100000902"]


def test_limit_and_more(archive, staff):
    clerk = staff("clerk")
    result = selectors.search(clerk, "临江县", limit=2)
    assert len(result.hits) == 2 and result.more
    result = selectors.search(clerk, "临江县", limit=3)
    assert len(result.hits) == 3 and not result.more


def test_data_scope_is_part_of_the_query(archive, staff):
    assert found(staff("clerk"), "3200000001") == [] and found(staff("clerk"), "3300000001") == []
    assert found(staff("reader"), "宏达") == []  # 城关供电所 only: the factory is in 河口
    assert found(staff("reader"), "张伟") == ["3100000001", "3100000002"]
    assert found(staff("auditor"), "张伟") == ["3100000001", "3200000001", "3300000001", "3100000002"]
    assert found(staff("manager"), "幸福路") == ["3100000001", "3200000001"]
    assert not selectors.searchable(staff("admin"))
    assert found(staff("admin"), "张伟") == []


def test_a_query_without_a_searchable_term_searches_nothing(archive, staff):
    for q in ("", "  ", "张", "3 a", None, "\x00\x00"):
        result = selectors.search(staff("clerk"), q)
        assert not result.searched and result.hits == []
    assert found(staff("clerk"), "%%") == [] and found(staff("clerk"), "_伟") == []


def test_refresh_follows_customer_and_account_changes(archive, staff, actor, django_capture_on_commit_callbacks):
    from powercis.customers.services import records

    clerk, custmgr = staff("clerk"), actor("custmgr")
    customer = archive["zhangwei"].customer
    with django_capture_on_commit_callbacks(execute=True):
        records.update_customer(custmgr, customer, name="张卫国", mobile="13811112468", reason="更正")
    hit = only_hit(clerk, "张卫国")
    assert (hit.account_no, hit.name, hit.customer_name) == ("3100000001", "张伟", "张卫国")
    assert found(clerk, "2468") == ["3100000001"] and found(clerk, "5678") == []
    with django_capture_on_commit_callbacks(execute=True):
        records.update_account(custmgr, archive["zhangwei"], service_address="临江县东湖镇朝阳路7号")
    assert found(clerk, "朝阳路") == ["3100000001"] and found(clerk, "幸福路") == []
    with django_capture_on_commit_callbacks(execute=True):
        account = make.account("HZ010101", owner=customer, account_no="3100000777", service_address="临江县新塘镇1号",
                               actor=custmgr)
    assert found(clerk, "3100000777") == [account.account_no]
    assert AccountSearchEntry.objects.get(pk=account.pk).org_path == account.org_path


def test_refresh_drops_entries_of_accounts_that_are_gone(archive):
    entry = AccountSearchEntry.objects.get(pk=archive["factory"].pk)
    entry.pk = 10 ** 12
    entry.save()
    assert indexing.refresh([10 ** 12, archive["factory"].pk]) == 1
    assert not AccountSearchEntry.objects.filter(pk=10 ** 12).exists()


def test_a_failing_refresh_does_not_break_the_change_that_caused_it(archive, monkeypatch, caplog):
    from powercis.customers.signals import accounts_changed

    def broken(ids):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(indexing, "refresh", broken)
    accounts_changed.send(sender=None, account_ids=[archive["zhangwei"].pk])
    assert "search index refresh failed" in caplog.text


def test_rebuild_rewrites_everything_or_one_company(archive, staff, org):
    clerk = staff("clerk")
    AccountSearchEntry.objects.all().delete()
    assert found(clerk, "张伟") == []
    result = indexing.rebuild()
    assert result.rows == AccountSearchEntry.objects.count() >= len(archive.accounts)
    assert found(clerk, "张伟") == ["3100000001", "3100000002"]
    assert found(clerk, "3330001000000000012345") == ["3100000001"] and found(clerk, "5678") == ["3100000001"]
    AccountSearchEntry.objects.filter(account_id=archive["zhangwei"].pk).update(search_text="", keys="")
    assert indexing.rebuild(org("HZ").pk).rows == result.rows
    assert found(clerk, "张伟") == ["3100000001", "3100000002"]
    assert indexing.rebuild(org("HZ0101").pk).rows == 0  # not a company: nothing of it to rebuild
    assert AccountSearchEntry.objects.count() == result.rows


def test_moving_an_org_moves_its_accounts_in_the_index_too(archive, staff, org, system_actor):
    from powercis.core.services import orgs

    orgs.move_org(system_actor, org("HZ010102"), org("HZ0102"), reason="划转")
    assert found(staff("clerk"), "宏达") == []
    assert found(staff("manager"), "宏达") == ["3100000103"]
    entry = AccountSearchEntry.objects.get(pk=archive["factory"].pk)
    assert entry.org_path == org("HZ010102").path and entry.org_path.startswith(org("HZ0102").path)


@pytest.mark.parametrize("q", [
    '"张伟', '张"伟"', "NEAR(张伟 幸福)", "张* OR 幸福", "keys:5678", "^31", "'; DROP TABLE x; --", "%_\\",
    "😀😀 幸福", "张伟\u3000幸福路", "ｚｈａｎｇ", "e\u0301e\u0301", "a" * 300, "3" * 40, "- -", "((", "\\x1f",
])
def test_hostile_queries_are_searched_as_plain_text(archive, staff, q):
    result = selectors.search(staff("clerk"), q)
    assert all(hit.account_no.startswith("31") for hit in result.hits)
