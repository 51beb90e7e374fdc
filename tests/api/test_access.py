"""Authentication (tokens, sessions), the one error format, its language, and robustness against hostile input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from powercis.core.models import ApiToken, AuditRecord, Org, Post, Staff
from powercis.core.services import posts as post_services
from powercis.core.services import staff as staff_services
from powercis.core.services import tokens as token_services


@pytest.fixture
def admin_secret(actor) -> str:
    _token, secret = token_services.create_token(actor("admin"), name="integration")
    return secret


def with_token(anonymous, secret: str):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return anonymous


def test_token_created_through_the_api_shows_its_secret_once_and_authenticates(api, anonymous):
    admin = api("admin")
    created = admin.post("/api/v1/tokens/", {"name": "meter-data import", "days": 30})
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("pcis_") and body["is_usable"] is True
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash != body["secret"] and body["secret"] not in token.key_hash
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)

    listed = admin.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["meter-data import"]
    assert "secret" not in listed[0]

    me = with_token(anonymous, body["secret"]).get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "admin"
    token.refresh_from_db()
    assert token.last_used_at is not None
    record = AuditRecord.objects.filter(action="token.create").latest("seq")
    assert record.channel == "api" and record.actor_name == "王立新 (admin)"


def test_revoked_token_is_refused_with_401(api, anonymous, admin_secret):
    token = ApiToken.objects.get(name="integration")
    assert api("admin").delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    response = with_token(anonymous, admin_secret).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_expired_token_is_refused_with_401(anonymous, admin_secret):
    ApiToken.objects.filter(name="integration").update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = with_token(anonymous, admin_secret).get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_token_stops_working_when_its_owner_loses_the_api_permission(anonymous, admin_secret, system_actor, org):
    client = with_token(anonymous, admin_secret)
    assert client.get("/api/v1/me/").status_code == 200
    post_services.update_post(system_actor, Post.objects.get(company=org("HZ"), code="sysadmin"), is_active=False)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert "使用接口令牌" in response.json()["message"]


def test_someone_else_cannot_revoke_or_see_my_token(api, admin_secret):
    token = ApiToken.objects.get(name="integration")
    manager = api("manager")
    assert manager.get("/api/v1/tokens/").json()["results"] == []
    response = manager.delete(f"/api/v1/tokens/{token.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    token.refresh_from_db()
    assert token.revoked_at is None


def test_missing_or_malformed_credentials_are_401(anonymous):
    response = anonymous.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    anonymous.credentials(HTTP_AUTHORIZATION="Token one two")
    assert anonymous.get("/api/v1/me/").json()["code"] == "authentication_failed"


def test_forced_password_change_blocks_the_api(anonymous, admin_secret, system_actor, staff):
    staff_services.reset_password(system_actor, staff("admin"))
    response = with_token(anonymous, admin_secret).get("/api/v1/me/")
    assert response.status_code == 403 and response.json()["code"] == "password_change_required"


def test_me_lists_posts_and_held_permission_codes(api):
    body = api("manager").get("/api/v1/me/").json()
    assert body["username"] == "manager" and body["org"]["code"] == "HZ01"
    assert [(p["post"]["code"], p["org"]["code"], p["scope"]) for p in body["posts"]] == [
        ("marketing_manager", "HZ01", "subtree")]
    assert "core.approve_grants" in body["permissions"] and "core.manage_staff" not in body["permissions"]
    assert body["permissions"] == sorted(body["permissions"])


def test_permission_catalogue_is_listed_with_both_labels(api):
    from powercis.core.permission_catalog import PERMISSIONS

    reader = api("reader")
    assert reader.get("/api/v1/permissions/").json()["count"] == len(PERMISSIONS)
    core = reader.get("/api/v1/permissions/", {"subsystem": "core", "page_size": 100}).json()["results"]
    assert {p["code"] for p in core} == {s.code for s in PERMISSIONS if s.subsystem == "core"}
    issue = next(p for p in reader.get("/api/v1/permissions/", {"subsystem": "billing"}).json()["results"]
                 if p["code"] == "billing.issue")
    assert issue == {"code": "billing.issue", "subsystem": "billing", "label_zh": "电费发行", "label_en": "Issue bills"}


# --- the error format and its language -------------------------------------------------


def test_validation_error_has_the_one_format_and_writes_nothing(api, org):
    orgs, records = Org.objects.count(), AuditRecord.objects.count()
    response = api("admin").post("/api/v1/orgs/", {"parent": org("HZ0101").pk, "code": "bad code!", "level": "moon"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed" and set(body) == {"code", "message", "fields"}
    assert set(body["fields"]) == {"code", "name", "level"}
    assert (Org.objects.count(), AuditRecord.objects.count()) == (orgs, records)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "This field is required."),
    ("en-US,en;q=0.8", "This field is required."),
    ("zh-CN", "该字段是必填项。"),
    (None, "该字段是必填项。"),
])
def test_messages_follow_accept_language(api, org, language, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = api("admin").post("/api/v1/orgs/", {"parent": org("HZ0101").pk, "code": "HZ010103", "level": "station"},
                                 **headers)
    assert response.json()["fields"] == {"name": [expected]}


def test_business_refusals_keep_their_code_in_every_language(api):
    for language in ("en", "zh-CN"):
        response = api("reader").get("/api/v1/orgs/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_malformed_json_is_a_400_in_the_error_format(api):
    response = api("admin").generic("POST", "/api/v1/orgs/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


# --- hostile input never reaches the database as an error ------------------------------------


@pytest.mark.parametrize("path", [
    "/api/v1/orgs/99999999999999999999999/",
    "/api/v1/orgs/-1/",
    "/api/v1/orgs/abc/",
    "/api/v1/orgs/1.5/",
    "/api/v1/no-such-endpoint/",
    "/api/v1/orgs",
])
def test_unknown_objects_and_paths_are_404_in_the_error_format(api, path):
    response = api("admin").get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("query", [
    {"parent": "99999999999999999999999"},
    {"parent": "0"},
    {"company": "x"},
    {"page_size": "many"},
    {"q": "x" * 101},
])
def test_filters_out_of_range_are_400(api, query):
    response = api("admin").get("/api/v1/orgs/", query)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


def test_too_long_or_null_character_input_is_400_and_changes_nothing(api, org):
    admin, target = api("admin"), org("HZ0101")
    too_long = admin.patch(f"/api/v1/orgs/{target.pk}/", {"name": "长" * 101, "sort_order": 2**31})
    assert too_long.status_code == 400 and set(too_long.json()["fields"]) == {"name", "sort_order"}
    nul = admin.post("/api/v1/staff/", {"username": "nul\x00user", "full_name": "x", "org": target.pk})
    assert nul.status_code == 400 and "username" in nul.json()["fields"]
    target.refresh_from_db()
    assert target.name == "临江县供电公司" and not Staff.objects.filter(username__startswith="nul").exists()


def test_page_beyond_the_end_is_404(api):
    response = api("admin").get("/api/v1/orgs/", {"page": 999})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_session_writes_need_the_csrf_token(api, org):
    client = api("admin", enforce_csrf_checks=True)
    response = client.post("/api/v1/orgs/", {"parent": org("HZ0101").pk, "code": "HZ010109", "name": "x",
                                             "level": "station"})
    assert response.status_code == 403 and "CSRF" in response.json()["message"]
    assert not Org.objects.filter(code="HZ010109").exists()
    assert client.get("/api/v1/me/").status_code == 200
