"""API test clients: a demo login's session, or a token, over https as in production."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from powercis.core.models import AuditRecord


class SecureClient(APIClient):
    """An API client whose requests arrive over https (production redirects plain http)."""

    def generic(self, method, path, data="", content_type="application/octet-stream", secure=True, **extra):
        return super().generic(method, path, data, content_type, secure=True, **extra)


@pytest.fixture
def anonymous(db) -> SecureClient:
    return SecureClient()


@pytest.fixture
def api(staff):
    """``api("auditor")`` → a client logged in (session) as that demo login; JSON bodies by default.

    ``api("admin", enforce_csrf_checks=True)`` checks CSRF as a browser session must.
    """

    def login(username: str, enforce_csrf_checks: bool = False) -> SecureClient:
        client = SecureClient(enforce_csrf_checks=enforce_csrf_checks)
        client.force_login(staff(username))
        client.default_format = "json"
        return client

    return login


@pytest.fixture
def last_audit(db):
    """``last_audit(action="create", object_type="core.org")`` → the newest matching audit record, or None."""

    def find(**lookup) -> AuditRecord | None:
        return AuditRecord.objects.filter(**lookup).order_by("-seq").first()

    return find
