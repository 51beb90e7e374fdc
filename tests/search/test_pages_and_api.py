"""The search page, the top-bar box and its live list, the API, and ``powercis search rebuild``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from powercis.search.models import AccountSearchEntry

pytestmark = pytest.mark.django_db


def login(client, staff, username):
    client.force_login(staff(username))
    return client


def test_results_page_lists_highlighted_masked_hits_linking_to_the_account(archive, client, staff):
    page = login(client, staff, "clerk").get(reverse("search:results"), {"q": "张伟 5678"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="search-count"' in html and f'data-account="{archive["zhangwei"].pk}"' in html
    assert html.count('class="list-group-item search-hit"') == 1
    assert reverse("customers:account_detail", args=[archive["zhangwei"].pk]) in html
    assert "<mark>张伟</mark>" in html and "138****<mark>5678</mark>" in html
    assert "13812345678" not in html
    assert "3200000001" not in html and "3300000001" not in html
    assert '<script>' not in html and ' style="' not in html  # the Content-Security-Policy allows neither


def test_results_page_explains_an_empty_or_short_query_and_says_when_nothing_matches(archive, client, staff):
    login(client, staff, "clerk")
    for q in ("", "张"):
        html = client.get(reverse("search:results"), {"q": q}).content.decode()
        assert 'id="search-explain"' in html and 'id="search-results"' not in html
    html = client.get(reverse("search:results"), {"q": "张伟 z"}).content.decode()
    assert 'id="search-ignored"' in html and 'id="search-results"' in html
    html = client.get(reverse("search:results"), {"q": "3200000001"}).content.decode()
    assert 'id="search-none"' in html


def test_results_page_needs_a_permission_to_view_accounts(client, staff):
    assert login(client, staff, "admin").get(reverse("search:results"), {"q": "张伟"}).status_code == 403
    client.logout()
    assert client.get(reverse("search:results")).status_code == 302


def test_top_bar_box_is_shown_only_to_users_who_may_search(archive, client, staff):
    html = login(client, staff, "clerk").get(reverse("web:dashboard")).content.decode()
    assert 'id="search-box"' in html and reverse("search:suggest") in html
    html = client.get(reverse("search:results"), {"q": "幸福路"}).content.decode()
    assert 'id="search-box-q"' in html and 'value="幸福路"' in html
    client.logout()
    html = login(client, staff, "admin").get(reverse("web:dashboard")).content.decode()
    assert 'id="search-box"' not in html


def test_live_list_shows_the_best_few_results(archive, client, staff):
    login(client, staff, "clerk")
    html = client.get(reverse("search:suggest"), {"q": "临江县"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.count('class="dropdown-item" href=') == 3 and "<mark>临江县</mark>" in html
    assert client.get(reverse("search:suggest"), {"q": "张"}).content.decode().strip() == ""
    assert "dropdown-item-text" in client.get(reverse("search:suggest"), {"q": "不存在的名字"}).content.decode()


def test_api_returns_the_same_results_in_scope(archive, client, staff):
    login(client, staff, "clerk")
    body = client.get("/api/v1/search/", {"q": "张伟", "limit": 1}).json()
    assert body["terms"] == ["张伟"] and body["more"] is True
    assert [(r["account_no"], r["rank"], r["matched"]) for r in body["results"]] == [("3100000001", 0, ["name"])]
    body = client.get("/api/v1/search/", {"q": "幸福路"}).json()
    assert [r["account_no"] for r in body["results"]] == ["3100000001"]
    body = client.get("/api/v1/search/", {"q": "5678"}).json()
    assert body["results"][0]["phones"] == ["138****5678"] and "13812345678" not in json.dumps(body)
    assert client.get("/api/v1/search/", {"q": "3300000001"}).json()["results"] == []


def test_api_refuses_bad_queries_in_the_error_format(archive, client, staff):
    login(client, staff, "clerk")
    for params in ({"q": "张"}, {}, {"q": "x" * 101}, {"q": "张伟", "limit": 0}, {"q": "ab\x00cd"}):
        response = client.get("/api/v1/search/", params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "validation_failed" and response.json()["fields"]
    client.logout()
    login(client, staff, "admin")
    response = client.get("/api/v1/search/", {"q": "张伟"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_rebuild_command(archive):
    AccountSearchEntry.objects.all().delete()
    out = StringIO()
    call_command("search", "rebuild", "--json", stdout=out)
    assert json.loads(out.getvalue())["rows"] == len(archive.accounts) == AccountSearchEntry.objects.count()
    out = StringIO()
    call_command("search", "rebuild", "--company", "HZ", stdout=out)
    assert "Search index rebuilt: 5" in out.getvalue()
    with pytest.raises(CommandError, match="HZ0101"):
        call_command("search", "rebuild", "--company", "HZ0101")
