"""Authentication backend: every credential check goes through the lockout-aware login service."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from .context import Actor
from .models import Staff


class StaffBackend(ModelBackend):
    """Django's ModelBackend for sessions, with credential checks routed through ``attempt_login``.

    Django's own permission methods are not used: permissions are business units
    decided by :mod:`powercis.core.authz`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        from .services.staff import LoginRefused, attempt_login

        if username is None or password is None:
            return None
        actor = Actor.from_request(request) if request is not None else Actor(user=None, channel="cli")
        try:
            return attempt_login(actor, username, password)
        except LoginRefused:
            return None

    def user_can_authenticate(self, user: Staff) -> bool:
        return user.is_active

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def has_perm(self, user_obj, perm, obj=None):
        return False
