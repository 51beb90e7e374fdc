"""Login with lockout, password policy, forced password change, idle timeout, Argon2."""

import datetime as dt
import time

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from powercis.core.models import AuditRecord, Staff
from powercis.core.services import staff as staff_services

pytestmark = pytest.mark.django_db
PASSWORD = "Powercis@2026"


def login(client, username, password=PASSWORD):
    return client.post(reverse("core:login"), {"username": username, "password": password})


def test_login_and_logout_are_audited(client):
    response = login(client, "reader")
    assert response.status_code == 302 and response["Location"] == reverse("web:dashboard")
    assert AuditRecord.objects.filter(action="auth.login", actor__username="reader").exists()
    client.post(reverse("core:logout"))
    assert AuditRecord.objects.filter(action="auth.logout", actor__username="reader").exists()
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_wrong_password_gets_one_generic_message_and_changes_nothing_else(client):
    response = login(client, "reader", "wrong-password")
    assert response.status_code == 200
    page = response.content.decode()
    assert "form-errors" in page
    assert "_auth_user_id" not in client.session
    assert Staff.objects.get(username="reader").failed_login_count == 1
    record = AuditRecord.objects.filter(action="auth.login_failed").latest("seq")
    assert record.object_repr.startswith("李明") and record.category == "security"


def test_unknown_login_name_is_audited(client):
    login(client, "nobody-here", "x")
    record = AuditRecord.objects.filter(action="auth.login_failed").latest("seq")
    assert record.object_repr == "nobody-here" and record.actor_id is None


def test_lockout_after_five_failures_for_fifteen_minutes(client, settings):
    for _ in range(5):
        login(client, "cashier", "bad")
    staff = Staff.objects.get(username="cashier")
    assert staff.locked_until is not None
    minutes = (staff.locked_until - timezone.now()).total_seconds() / 60
    assert 14 < minutes <= 15
    assert AuditRecord.objects.filter(action="auth.locked", object_id=str(staff.pk)).count() == 1
    response = login(client, "cashier")  # right password, still locked
    assert "_auth_user_id" not in client.session
    assert AuditRecord.objects.filter(action="auth.login_refused_locked").exists()
    assert "15" in response.content.decode()
    Staff.objects.filter(pk=staff.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(client, "cashier").status_code == 302


def test_lockout_threshold_is_configurable(client, settings):
    settings.POWERCIS_LOCKOUT_ATTEMPTS = 2
    settings.POWERCIS_LOCKOUT_MINUTES = 60
    login(client, "clerk", "bad")
    login(client, "clerk", "bad")
    staff = Staff.objects.get(username="clerk")
    assert 59 < (staff.locked_until - timezone.now()).total_seconds() / 60 <= 60


def test_administrator_unlocks(actor, staff):
    Staff.objects.filter(username="cashier").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    staff_services.unlock_staff(actor("admin"), staff("cashier"), reason="本人来电")
    assert staff("cashier").locked_until is None


def test_deactivated_account_cannot_log_in(client, actor, staff):
    staff_services.set_staff_active(actor("admin"), staff("analyst"), False, reason="离职")
    login(client, "analyst")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("password, code", [
    ("Short1!", "password_too_short"),
    ("alllowercaseletters", "password_too_simple"),
    ("Reader2026!x", "password_contains_username"),
])
def test_password_policy(password, code, staff):
    with pytest.raises(ValidationError) as exc:
        password_validation.validate_password(password, staff("reader"))
    assert code in [e.code for e in exc.value.error_list]


def test_admin_created_account_must_change_password_first(client, actor, org):
    member, initial = staff_services.create_staff(actor("admin"), username="fresh", full_name="新账号",
                                                  org=org("HZ010101"))
    assert member.must_change_password
    assert login(client, "fresh", initial).status_code == 302
    response = client.get(reverse("core:staff_list"))
    assert response.status_code == 302 and response["Location"] == reverse("core:password_change")
    response = client.post(reverse("core:password_change"), {
        "old_password": initial, "new_password": "Morning-Tea-2026", "new_password2": "Morning-Tea-2026"})
    assert response.status_code == 302
    fresh = Staff.objects.get(username="fresh")
    assert not fresh.must_change_password and fresh.check_password("Morning-Tea-2026")
    assert client.get(reverse("web:dashboard")).status_code == 200


def test_new_password_must_follow_policy_and_differ(client, actor, org):
    _m, initial = staff_services.create_staff(actor("admin"), username="fresh2", full_name="新账号",
                                              org=org("HZ010101"))
    login(client, "fresh2", initial)
    response = client.post(reverse("core:password_change"), {
        "old_password": initial, "new_password": initial, "new_password2": initial})
    assert response.status_code == 200
    assert Staff.objects.get(username="fresh2").must_change_password


def test_idle_session_times_out(client, settings):
    login(client, "reader")
    assert client.get(reverse("web:dashboard")).status_code == 200
    session = client.session
    session["powercis_last_seen"] = int(time.time()) - settings.POWERCIS_SESSION_IDLE_MINUTES * 60 - 5
    session.save()
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))
    assert AuditRecord.objects.filter(action="auth.logout", reason="idle timeout").exists()
    assert client.get(reverse("web:dashboard")).status_code == 302


def test_recent_activity_keeps_the_session(client, settings):
    login(client, "reader")
    session = client.session
    session["powercis_last_seen"] = int(time.time()) - settings.POWERCIS_SESSION_IDLE_MINUTES * 60 + 30
    session.save()
    assert client.get(reverse("web:dashboard")).status_code == 200


def test_production_hashes_passwords_with_argon2():
    import importlib

    import powercis.settings as production

    production = importlib.reload(production)
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        assert make_password("Powercis@2026").startswith("argon2$argon2id$")


def test_login_rate_limited_per_address(client, monkeypatch):
    from powercis.core.views import auth as auth_views

    monkeypatch.setattr(auth_views, "LOGIN_ATTEMPTS_PER_ADDRESS", 2)
    from django.core.cache import cache

    cache.clear()
    for name in ("a1x", "a2x", "a3x"):
        response = login(client, name, "x")
    assert response.status_code == 200
    # the third attempt was refused before any credential check: no audit record for a3x
    assert not AuditRecord.objects.filter(object_repr="a3x").exists()
