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


class HasPermission(IsActiveStaff):
    """Require a business permission somewhere (``required_permission`` on the view, or per action)."""

    def has_permission(self, request, view):
        from .. import authz

        if not super().has_permission(request, view):
            return False
        perm = getattr(view, "required_permissions", {}).get(getattr(view, "action", None)) or getattr(
            view, "required_permission", None
        )
        if perm and not authz.authorize(request.user, perm):
            raise exceptions.PermissionDenied(
                detail={"code": "permission_denied",
                        "message": _("You do not have the permission “%(perm)s”.") % {"perm": authz.permission_label(perm)}}
            )
        return True
