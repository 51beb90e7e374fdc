"""What every core page needs: permission gates, scoped lookups, service calls that report errors, paging."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.translation import gettext as _

from .. import authz
from ..context import Actor
from ..errors import BusinessError, NotFound


def requires(*perms: str):
    """The user must hold at least one of ``perms`` somewhere; otherwise the 403 page says which."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not any(authz.authorize(request.user, p) for p in perms):
                raise PermissionDenied(
                    _("You do not have the permission “%(perm)s”.") % {"perm": authz.permission_label(perms[0])}
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def scoped_get(queryset, **lookup):
    """One row of an already scope-restricted queryset, or 404 (rows outside the scope do not exist for the user)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404 from exc


def actor(request) -> Actor:
    return Actor.from_request(request)


def run(request, form, fn, *args, **kwargs):
    """Call a service; on a business refusal put its message on the form (or in the messages) and return None."""
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise Http404 from exc
    except BusinessError as exc:
        if form is None:
            messages.error(request, str(exc.message))
            return None
        placed = False
        for field, errors in (exc.fields or {}).items():
            target = field if field in form.fields else None
            for error in errors if isinstance(errors, (list, tuple)) else [errors]:
                form.add_error(target, str(error))
                placed = True
        if not placed:
            form.add_error(None, str(exc.message))
        return None


def changed_fields(data: dict, initial: dict, skip=("reason",)) -> dict:
    """The submitted values that differ from what the form started with (the update a service receives)."""
    return {k: v for k, v in data.items() if k not in skip and v != initial.get(k)}


def refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def page(request, queryset, per_page: int = 50):
    paginator = Paginator(queryset, per_page)
    page_obj = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    encoded = query.urlencode()
    return {"page_obj": page_obj, "query_without_page": f"{encoded}&" if encoded else ""}

