"""Reading code tables: the valid codes of a company's table, their labels, and a check that names bad ones.

Services validate a whole record at once (``check``); bulk import loads each table once
(``codes_of``) and checks every row against the dictionary in memory.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import ValidationFailed
from .models import CodeItem


def codes_of(company_id: int, table: str, *, active_only: bool = True) -> dict[str, CodeItem]:
    qs = CodeItem.objects.filter(table__company_id=company_id, table__code=table)
    if active_only:
        qs = qs.filter(is_active=True)
    return {item.code: item for item in qs}


def label(company_id: int, table: str, code: str) -> str:
    """The label of ``code`` in the user's language, or the code itself when the table lacks it."""
    if not code:
        return ""
    item = CodeItem.objects.filter(table__company_id=company_id, table__code=table, code=code).first()
    return item.label if item else code


def unknown_code_message(code: str, table: str) -> str:
    return _("“%(code)s” is not a code of the table %(table)s.") % {"code": code, "table": table}


def check(company_id: int, fields: dict[str, tuple[str, str]]) -> None:
    """``fields`` maps a field name to (table code, value); empty values are not checked."""
    errors = {}
    for name, (table, value) in fields.items():
        if value and value not in codes_of(company_id, table):
            errors[name] = [unknown_code_message(value, table)]
    if errors:
        raise ValidationFailed(fields=errors)
