"""API access gates.  Business permissions and data scope are decided by core.authz in the views and services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions


class IsActiveStaff(permissions.BasePermission):
    """An authenticated, active staff member who has no pending forced password change."""

    message = _("Authentication credentials were not provided.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.must_change_password:
            raise exceptions.PermissionDenied(
                detail={"code": "password_change_required",
                        "message": _("You must change your password before you continue.")}
            )
        return True


def required_for(view) -> tuple[str, ...]:
    """The business permissions the view's current action needs; holding any one of them (somewhere) suffices.

    A view declares ``required_permission`` for all its actions and may override it per
    action in ``required_permissions``; either value is a code or a tuple of codes.
    """
    action = getattr(view, "action", None)
    perm = getattr(view, "required_permissions", {}).get(action) or getattr(view, "required_permission", None)
    if not perm:
        return ()
    return (perm,) if isinstance(perm, str) else tuple(perm)


class HasPermission(IsActiveStaff):
    """Require a business permission somewhere; where it applies (data scope) is checked on the rows and by services."""

    def has_permission(self, request, view):
        from .. import authz

        if not super().has_permission(request, view):
            return False
        perms = required_for(view)
        if perms and not any(authz.authorize(request.user, perm) for perm in perms):
            raise exceptions.PermissionDenied(
                detail={"code": "permission_denied",
                        "message": _("You do not have the permission “%(perm)s”.")
                        % {"perm": authz.permission_label(perms[0])}}
            )
        return True
