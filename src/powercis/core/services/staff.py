"""Staff accounts: create, edit, deactivate, reset and change passwords, unlock, log in with lockout."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import audit, authz
from ..context import Actor
from ..errors import BusinessError, NotAuthorized, ValidationFailed
from ..models import AuditCategory, Org, Staff
from .base import apply_changes, validated

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
EDITABLE_FIELDS = {"full_name", "employee_no", "mobile", "email", "language"}


def _check_password(password: str, staff: Staff, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, staff)
    except ValidationError as exc:
        raise ValidationFailed(fields={field: [str(m) for m in exc.messages]}) from exc


def temporary_password(length: int = 14) -> str:
    """A random password that satisfies the policy (all four character classes)."""
    pools = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*-_=+"]
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@transaction.atomic
def create_staff(actor: Actor, *, username: str, full_name: str, org: Org, password: str | None = None,
                 employee_no: str = "", mobile: str = "", email: str = "", must_change_password: bool = True
                 ) -> tuple[Staff, str]:
    """Create an account; returns it with its initial password, which must be changed at first login."""
    grant = authz.require(actor, "core.manage_staff", org)
    if not USERNAME.fullmatch(username or ""):
        raise ValidationFailed(fields={"username": [_("Use 3 to 64 letters, digits, '.', '_' or '-'.")]})
    if Staff.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(fields={"username": [_("The login name %(name)s is taken.") % {"name": username}]})
    if not org.is_active:
        raise ValidationFailed(fields={"org": [_("The org is deactivated.")]})
    staff = Staff(username=username, full_name=full_name, org=org, employee_no=employee_no, mobile=mobile,
                  email=email, must_change_password=must_change_password, created_by=actor.user)
    initial = password or temporary_password()
    _check_password(initial, staff)
    staff.set_password(initial)
    validated(staff, exclude=["password", "created_by"])
    staff.save()
    audit.record_create(actor, staff, org=org, grant=grant)
    return staff, initial


@transaction.atomic
def update_staff(actor: Actor, staff: Staff, *, reason: str = "", org: Org | None = None, **changes) -> Staff:
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    grant = authz.require(actor, "core.manage_staff", staff.org)
    if org is not None and org.pk != staff.org_id:
        authz.require(actor, "core.manage_staff", org)
        if org.company_id != staff.org.company_id:
            raise ValidationFailed(fields={"org": [_("Staff cannot move to another company.")]})
        changes["org"] = org
    apply_changes(actor, staff, changes, allowed=EDITABLE_FIELDS | {"org"}, grant=grant, reason=reason,
                  exclude_validation=["password", "created_by"])
    return staff


@transaction.atomic
def set_staff_active(actor: Actor, staff: Staff, active: bool, *, reason: str) -> Staff:
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    grant = authz.require(actor, "core.manage_staff", staff.org)
    if not active and actor.user is not None and actor.user.pk == staff.pk:
        raise ValidationFailed(_("You cannot deactivate your own account."))
    if not (reason or "").strip():
        raise ValidationFailed(fields={"reason": [_("Give a reason.")]})
    before = audit.snapshot(staff)
    staff.is_active = active
    staff.save(update_fields=["is_active"])
    audit.record_update(actor, staff, before, org=staff.org, grant=grant, reason=reason)
    return staff


@transaction.atomic
def reset_password(actor: Actor, staff: Staff, *, reason: str = "") -> str:
    """Set a new temporary password, unlock the account and force a change at next login."""
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    grant = authz.require(actor, "core.manage_staff", staff.org)
    password = temporary_password()
    staff.set_password(password)
    staff.must_change_password = True
    staff.failed_login_count = 0
    staff.locked_until = None
    staff.save(update_fields=["password", "must_change_password", "failed_login_count", "locked_until"])
    audit.record(actor, action="staff.reset_password", category=AuditCategory.SECURITY, obj=staff, org=staff.org,
                 grant=grant, reason=reason)
    return password


@transaction.atomic
def unlock_staff(actor: Actor, staff: Staff, *, reason: str = "") -> Staff:
    staff = Staff.objects.select_for_update().get(pk=staff.pk)
    grant = authz.require(actor, "core.manage_staff", staff.org)
    staff.failed_login_count = 0
    staff.locked_until = None
    staff.save(update_fields=["failed_login_count", "locked_until"])
    audit.record(actor, action="staff.unlock", category=AuditCategory.SECURITY, obj=staff, org=staff.org,
                 grant=grant, reason=reason)
    return staff


@transaction.atomic
def change_own_password(actor: Actor, *, old_password: str, new_password: str) -> Staff:
    if actor.user is None:
        raise NotAuthorized()
    staff = Staff.objects.select_for_update().get(pk=actor.user.pk)
    if not staff.check_password(old_password):
        raise ValidationFailed(fields={"old_password": [_("The current password is wrong.")]})
    if old_password == new_password:
        raise ValidationFailed(fields={"new_password": [_("The new password must differ from the current one.")]})
    _check_password(new_password, staff, "new_password")
    staff.set_password(new_password)
    staff.must_change_password = False
    staff.password_changed_at = timezone.now()
    staff.save(update_fields=["password", "must_change_password", "password_changed_at"])
    audit.record(actor, action="auth.password_changed", category=AuditCategory.SECURITY, obj=staff, org=staff.org)
    return staff


# --- login ----------------------------------------------------------------


class LoginRefused(BusinessError):
    code = "login_refused"
    status = 401


@dataclass
class _Outcome:
    staff: Staff | None
    error: str | None = None


def _refuse(actor: Actor, action: str, username: str, staff: Staff | None, reason: str) -> None:
    audit.record(actor, action=action, category=AuditCategory.SECURITY, obj=staff,
                 object_type="" if staff else "core.staff", object_repr=staff and str(staff) or username[:64],
                 org=staff.org if staff else None, reason=reason)


def attempt_login(actor: Actor, username: str, password: str) -> Staff:
    """Check credentials with lockout; every attempt is audited.

    After ``POWERCIS_LOCKOUT_ATTEMPTS`` consecutive failures the account is locked for
    ``POWERCIS_LOCKOUT_MINUTES``.  The failure is committed before the refusal is
    raised, so a failed attempt is never rolled back with the request.
    """
    generic = _("Wrong login name or password.")
    with transaction.atomic():
        staff = Staff.objects.select_for_update().filter(username__iexact=(username or "").strip()).first()
        now = timezone.now()
        if staff is None:
            _refuse(actor, "auth.login_failed", username or "", None, "unknown login name")
            outcome = _Outcome(None, generic)
        elif staff.is_locked(now):
            minutes = max(1, int((staff.locked_until - now).total_seconds() // 60) + 1)
            _refuse(actor, "auth.login_refused_locked", username, staff, "account locked")
            outcome = _Outcome(None, _("The account is locked after repeated failed logins. Try again in %(minutes)s "
                                       "minutes or ask an administrator to unlock it.") % {"minutes": minutes})
        elif not staff.check_password(password or ""):
            Staff.objects.filter(pk=staff.pk).update(failed_login_count=F("failed_login_count") + 1)
            staff.refresh_from_db(fields=["failed_login_count"])
            _refuse(actor, "auth.login_failed", username, staff, f"wrong password ({staff.failed_login_count})")
            outcome = _Outcome(None, generic)
            if staff.failed_login_count >= settings.POWERCIS_LOCKOUT_ATTEMPTS:
                staff.locked_until = now + dt.timedelta(minutes=settings.POWERCIS_LOCKOUT_MINUTES)
                staff.failed_login_count = 0
                staff.save(update_fields=["locked_until", "failed_login_count"])
                _refuse(actor, "auth.locked", username, staff,
                        f"{settings.POWERCIS_LOCKOUT_ATTEMPTS} failed logins; locked for "
                        f"{settings.POWERCIS_LOCKOUT_MINUTES} minutes")
                outcome = _Outcome(None, _("Too many failed logins: the account is locked for %(minutes)s minutes.")
                                   % {"minutes": settings.POWERCIS_LOCKOUT_MINUTES})
        elif not staff.is_active:
            _refuse(actor, "auth.login_refused_inactive", username, staff, "account deactivated")
            outcome = _Outcome(None, _("The account is deactivated."))
        else:
            staff.failed_login_count = 0
            staff.locked_until = None
            staff.last_login = now
            staff.save(update_fields=["failed_login_count", "locked_until", "last_login"])
            audit.record(Actor(user=staff, ip=actor.ip, channel=actor.channel, request_id=actor.request_id),
                         action="auth.login", category=AuditCategory.SECURITY, obj=staff, org=staff.org)
            outcome = _Outcome(staff)
    if outcome.staff is None:
        raise LoginRefused(outcome.error)
    return outcome.staff


def record_logout(actor: Actor, *, reason: str = "") -> None:
    if actor.user is not None:
        audit.record(actor, action="auth.logout", category=AuditCategory.SECURITY, obj=actor.user, org=actor.user.org,
                     reason=reason)
