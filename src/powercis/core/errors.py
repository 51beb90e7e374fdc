"""Typed business errors: each carries a stable code and a message in the user's language.

Services raise these; the web layer shows ``message`` and the API turns them into the
one error format (code, message, field errors).  Nothing is written when one is raised,
because every service runs in one transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class BusinessError(Exception):
    """A refusal the user can understand and act on."""

    code = "invalid"
    status = 400
    default_message = _("The request was refused.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class ValidationFailed(BusinessError):
    code = "validation_failed"
    default_message = _("Some fields are not valid.")


class NotAuthorized(BusinessError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class NotFound(BusinessError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class SeparationOfDutiesViolation(BusinessError):
    code = "separation_of_duties"
    status = 403
    default_message = _("Separation of duties forbids this.")


class DocumentLocked(BusinessError):
    code = "document_locked"
    status = 409
    default_message = _("The document is in approval and cannot be changed.")


class InvalidTransition(BusinessError):
    code = "invalid_transition"
    status = 409
    default_message = _("This action is not possible in the document's current state.")

