"""Staff accounts: the people who log in, with lockout and forced password change state."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(username__iexact=username)

    def create_user(self, username, password=None, **extra):
        """Low-level constructor used by services and migrations; it neither audits nor authorises."""
        staff = self.model(username=username, **extra)
        staff.set_password(password) if password else staff.set_unusable_password()
        staff.save(using=self._db)
        return staff


class Staff(AbstractBaseUser):
    username = models.CharField(
        _("login name"),
        max_length=64,
        unique=True,
        help_text=_("Letters, digits and . _ - only; usually the employee number."),
    )
    full_name = models.CharField(_("full name"), max_length=64)
    org = models.ForeignKey("core.Org", verbose_name=_("home org"), on_delete=models.PROTECT, related_name="staff")
    employee_no = models.CharField(_("employee number"), max_length=32, blank=True)
    mobile = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    is_active = models.BooleanField(_("active"), default=True)
    must_change_password = models.BooleanField(_("must change password at next login"), default=False)
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(_("failed logins"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )

    objects = StaffManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"

    # Django's auth framework and templates expect these.
    is_superuser = False
    is_staff = False

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name

    def is_locked(self, now=None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now

    def audit_fields(self) -> list[str]:
        return ["username", "full_name", "org_id", "employee_no", "mobile", "email", "is_active", "must_change_password"]
