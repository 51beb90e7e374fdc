"""Property-based run of the whole API from its own OpenAPI schema: no input, valid or not, may cause a 5xx,
and every answer is one the schema documents.

Every operation — the writes included — is called with generated data (positive and
negative examples and the schema's boundary cases), authenticated with a token of the
demo administrator.  Most generated ids are pointed at objects that exist, so that writes
get past the lookup and reach the services; the rest stay as generated (unknown,
negative, beyond 64 bits).  Each call runs in a savepoint that is rolled back, so one
example's writes (a revoked token, a reset password) never change what the next one
meets.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from powercis.core import selectors
from powercis.core.models import (
    AlertKind,
    ApiToken,
    ApprovalRequest,
    AuditAlert,
    AuditAlertRule,
    AuditRecord,
    CodeItem,
    CodeTable,
    DataScope,
    Org,
    Post,
    PostAssignment,
    PostGrantRequest,
    SodRule,
    Staff,
)
from powercis.core.services import alerts as alert_services
from powercis.core.services import approvals as approval_services
from powercis.core.services import posts as post_services
from powercis.core.services import tokens as token_services
from powercis.wsgi import application

BASE_URL = "https://localhost"  # production serves the API over https only

# Loaded when the module is collected: generating the schema reads no data.  Methods an
# operation does not have are Django REST framework's 405, not worth a request each.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", application, base_url=BASE_URL,
    config=schemathesis.Config.from_dict({"phases": {"coverage": {"unexpected-methods": []}}}),
)

#: no 5xx, and every answer is one the schema documents: its status, its content type, its body
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

#: the rows behind each collection's ``{id}`` (``{seq}`` for the audit trail)
COLLECTIONS = {
    "orgs": Org.objects, "staff": Staff.objects, "posts": Post.objects, "assignments": PostAssignment.objects,
    "grant-requests": PostGrantRequest.objects, "approvals": ApprovalRequest.objects, "sod-rules": SodRule.objects,
    "audit-alerts": AuditAlert.objects, "audit-alert-rules": AuditAlertRule.objects, "code-tables": CodeTable.objects,
    "code-items": CodeItem.objects, "tokens": ApiToken.objects,
}
#: body fields that refer to another object by id
REFERENCES = {"parent": "orgs", "org": "orgs", "company": "orgs", "staff": "staff", "post": "posts"}


@pytest.fixture
def known_ids(db, actor, system_actor, staff, org) -> dict[str, list[int]]:
    """Ids of existing rows, after giving the administrator the auditor's post and raising an alert to handle."""
    company = org("HZ")
    auditor_post = Post.objects.get(company=company, code="auditor")
    post_services.bootstrap_grant(system_actor, staff=staff("admin"), post=auditor_post, org=company,
                                  scope=DataScope.SUBTREE)
    rule = AuditAlertRule.objects.get(company=company, kind=AlertKind.CHANGE_VOLUME)
    alert_services.update_rule(system_actor, rule, params={"max_per_day": 1})
    approval_services.approve(actor("manager"), selectors.inbox(staff("manager")).get())  # two changes: an alert
    assert AuditAlert.objects.filter(rule=rule).exists()
    ids = {name: list(manager.order_by("pk").values_list("pk", flat=True)) for name, manager in COLLECTIONS.items()}
    ids["audit-records"] = list(AuditRecord.objects.order_by("seq").values_list("seq", flat=True))
    return ids


@pytest.fixture
def admin_token(actor, known_ids) -> str:
    """A token of the administrator; the connection stays open across calls, as with Django's test client."""
    token, secret = token_services.create_token(actor("admin"), name="schemathesis")
    known_ids["tokens"].append(token.pk)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield secret
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _existing(value, ids: list[int]):
    """Most generated small whole numbers become an existing id; others (1 in 8, negative, huge) stay as generated."""
    number = int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value
    if isinstance(number, int) and not isinstance(number, bool) and 0 <= number < 2**31 and number % 8 != 7 and ids:
        return ids[number % len(ids)]
    return value


def steer(case, known_ids: dict[str, list[int]]) -> None:
    collection = case.operation.path.split("/")[3]  # /api/v1/<collection>/...
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = _existing(value, known_ids.get(collection, []))
    if isinstance(case.body, dict):
        for field, target in REFERENCES.items():
            if field in case.body:
                case.body[field] = _existing(case.body[field], known_ids[target])


@schema.parametrize()
@settings(max_examples=4, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error_or_an_undocumented_answer(case, admin_token, known_ids):
    steer(case, known_ids)
    with transaction.atomic():
        response = case.call(base_url=BASE_URL, headers={"Authorization": f"Token {admin_token}"})
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)
