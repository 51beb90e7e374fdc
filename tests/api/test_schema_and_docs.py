"""The OpenAPI document and the Swagger UI page, which must work under the site's Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders


@pytest.fixture
def plain_static_files(settings):
    """Static URLs by their plain names (a production set-up serves the hashed names after collectstatic)."""
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def test_schema_is_openapi_3_with_the_error_format_and_stable_enum_names(anonymous):
    response = anonymous.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/orgs/", "/api/v1/orgs/{id}/move/", "/api/v1/approvals/inbox/", "/api/v1/sod-conflicts/",
            "/api/v1/audit-records/{seq}/", "/api/v1/code-tables/{id}/items/", "/api/v1/me/"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert set(components["Error"]["properties"]) == {"code", "message", "fields"}
    assert {"OrgLevelEnum", "DataScopeEnum", "ApprovalStatusEnum", "ApprovalRequestStatusEnum",
            "AuditAlertStatusEnum", "ApprovalActionKindEnum", "AlertKindEnum"} <= set(components)
    approve = schema["paths"]["/api/v1/approvals/{id}/approve/"]["post"]["responses"]
    assert set(approve) == {"200", "400", "401", "403", "404", "409"}
    assert approve["403"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "sessionAuth"}


def test_assignment_revoke_is_a_post_action_documented_as_204(anonymous):
    paths = anonymous.get("/api/schema/", {"format": "json"}).json()["paths"]
    revoke = paths["/api/v1/assignments/{id}/revoke/"]["post"]
    assert "204" in revoke["responses"] and "delete" not in paths.get("/api/v1/assignments/{id}/", {})
    assert revoke["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("RequiredReasonRequest")


def test_docs_page_loads_every_script_and_style_from_files(anonymous, plain_static_files):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    html = response.content.decode()
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    sources = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _body in scripts]
    assert "/api/docs/?script=" in sources
    for url in [*sources, *re.findall(r'<link[^>]+href="([^"]+)"', html)]:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url


def test_docs_script_is_served_as_javascript_and_points_at_the_schema(anonymous):
    response = anonymous.get("/api/docs/", {"script": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in response.content.decode()
