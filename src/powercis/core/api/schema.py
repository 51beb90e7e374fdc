"""OpenAPI generation: every operation documents the error responses it can give, all in the one error format."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

ERROR_RESPONSES = {
    400: "The input is not valid or a business rule refused it; `fields` names the fields.",
    401: "Not authenticated, or the token is unknown, expired or revoked.",
    403: "A permission is missing (the message names it), separation of duties forbids the action, "
         "or the password must be changed first.",
    404: "No such object within your data scope (or no such page of the list).",
    409: "The object's state does not allow this (e.g. a document in approval, an approval already closed).",
}


class ApiSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses that follow from the method and the path.

    Unsafe methods may fail validation (400) or meet a state conflict (409); lists and
    detail paths may answer 404 (an unknown page, an object outside the data scope);
    every operation needs authentication (401) and may lack a permission (403).
    """

    def error_codes(self) -> list[int]:
        unsafe = self.method not in ("GET", "HEAD", "OPTIONS")
        listing = self.method == "GET" and self._is_list_view()
        codes = {401, 403}
        if unsafe or listing:
            codes.add(400)
        if listing or "{" in self.path:
            codes.add(404)
        if unsafe:
            codes.add(409)
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            error = OpenApiResponse(response=ErrorSerializer, description=ERROR_RESPONSES[code])
            responses.setdefault(str(code), self._get_response_for_code(error, str(code), direction=direction))
        return responses
