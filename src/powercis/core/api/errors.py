"""One error format for the whole API: ``{"code", "message", "fields"}``, message in the request's language."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..errors import BusinessError


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable machine-readable error code")
    message = serializers.CharField(help_text="human-readable message in the request's language")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="field name → messages")


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                flat = []
                for item in value:
                    if isinstance(item, dict):
                        for sub, msgs in _flatten(item).items():
                            out[f"{key}.{sub}"] = msgs
                    else:
                        flat.append(str(item))
                if flat:
                    out[key] = flat
            else:
                out[key] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {}


def exception_handler(exc, context):
    if isinstance(exc, BusinessError):
        return Response({"code": exc.code, "message": str(exc.message), "fields": exc.fields}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(detail)
        message = fields.pop("non_field_errors", [None])[0] if "non_field_errors" in fields else None
        body = {"code": "validation_failed", "message": message or _("Some fields are not valid."), "fields": fields}
    elif isinstance(detail, dict) and "code" in detail and "message" in detail:
        body = {"code": str(detail["code"]), "message": str(detail["message"]), "fields": {}}
    else:
        code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
        body = {"code": str(code), "message": str(detail if detail is not None else exc), "fields": {}}
    response.data = body
    return response
