import io
import re

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from powercis.core import audit, authz
from powercis.core.management.commands import createadmin as command
from powercis.core.models import AuditRecord, DataScope, Org, PostAssignment, Staff

STRONG = "Grid-Admin-2026!"


def createadmin(*args: str) -> str:
    out = io.StringIO()
    call_command("createadmin", *args, stdout=out)
    return out.getvalue()


def test_creates_the_installation_administrator(db, org):
    out = createadmin("--username", "root", "--full-name", "林海", "--password", STRONG)
    staff = Staff.objects.get(username="root")
    assignment = PostAssignment.objects.select_related("post", "org").get(staff=staff)
    assert (assignment.post.code, assignment.scope, assignment.org.code) == ("sysadmin", DataScope.ALL, "HZ")
    assert staff.full_name == "林海"
    assert staff.check_password(STRONG)
    assert staff.must_change_password
    assert authz.authorize(staff, "core.manage_staff", org("HZ010101"))
    assert AuditRecord.objects.filter(channel="cli", object_type="core.staff", object_id=str(staff.pk)).exists()
    assert audit.verify().ok
    assert "root" in out and "Initial password" not in out


def test_without_input_a_password_is_generated_and_printed(db):
    out = createadmin("--username", "root", "--no-input", "--no-force-change")
    password = re.search(r"Initial password: (\S+)", out).group(1)
    staff = Staff.objects.get(username="root")
    assert staff.check_password(password)
    assert not staff.must_change_password
    assert staff.full_name == "系统管理员"


def test_creates_the_company_when_it_does_not_exist(db):
    out = createadmin("--username", "parkadmin", "--password", STRONG,
                      "--company-code", "YQ", "--company-name", "高新园区配电有限公司", "--company-level", "city")
    company = Org.objects.get(code="YQ")
    assert company.is_company and company.level == "city"
    assignment = PostAssignment.objects.get(staff__username="parkadmin")
    assert assignment.org == company and assignment.post.company == company
    assert "YQ" in out


def test_weak_password_is_refused_with_the_policy_messages(db):
    staff_count = Staff.objects.count()
    with pytest.raises(ValidationError) as policy:
        password_validation.validate_password("abc12345", Staff(username="root", full_name="系统管理员"))
    with pytest.raises(CommandError) as refused:
        createadmin("--username", "root", "--password", "abc12345")
    assert refused.value.returncode == 1
    for message in policy.value.messages:
        assert message in str(refused.value)
    assert Staff.objects.count() == staff_count


def test_taken_login_name_is_refused_and_nothing_is_written(db):
    orgs, staff = Org.objects.count(), Staff.objects.count()
    with pytest.raises(CommandError, match="admin"):
        createadmin("--username", "admin", "--password", STRONG, "--company-code", "NEW", "--company-name", "新公司")
    assert (Org.objects.count(), Staff.objects.count()) == (orgs, staff)


def test_several_companies_need_a_company_code(db):
    createadmin("--username", "parkadmin", "--password", STRONG, "--company-code", "YQ", "--company-name", "园区")
    with pytest.raises(CommandError, match="HZ, YQ"):
        createadmin("--username", "root", "--password", STRONG)


def test_an_org_below_a_company_is_not_a_company(db):
    with pytest.raises(CommandError, match="HZ01"):
        createadmin("--username", "root", "--password", STRONG, "--company-code", "HZ01")


class Terminal:
    def isatty(self) -> bool:
        return True


def test_interactive_run_asks_for_what_is_missing(db, monkeypatch):
    answers = iter(["root", "林海"])
    monkeypatch.setattr(command.sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr(command.getpass, "getpass", lambda prompt: STRONG)
    createadmin()
    staff = Staff.objects.get(username="root")
    assert staff.full_name == "林海" and staff.check_password(STRONG)


def test_without_a_terminal_the_password_must_be_given(db):
    with pytest.raises(CommandError, match="--no-input"):
        createadmin("--username", "root")
