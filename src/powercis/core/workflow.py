"""The approval workflow registry: each document type declares its steps once, here.

A step names the post that approves it and the permission that post must carry; the
approver must hold that post in an org whose data scope covers the document's org.
Later issues register adjustments (退补), tariff changes, penalties and account changes
the same way (see ``workflow_types.py`` for the core ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable



@dataclass(frozen=True)
class Step:
    """One approval step: who may decide it.

    The approver holds ``post``, whose bundle carries ``permission``, in an org whose data
    scope covers the document's org; when ``level`` is given (``"county"``, ``"city"``, …)
    that org must also be of this level — e.g. a county manager first, then a city one.
    """

    name: str
    post: str
    permission: str
    level: str | None = None

    def admits(self, grant) -> bool:
        """Whether a grant (of ``permission``) is of the right post and org level; scope is checked apart."""
        return grant.post_code == self.post and (self.level is None or grant.org_level == self.level)


@dataclass(frozen=True)
class DocumentType:
    code: str
    label: str
    model: str  # "app_label.ModelName"
    submit_permission: str
    steps: tuple[Step, ...]
    #: called inside the approving transaction after the last step; performs the effect
    on_approved: Callable | None = None
    on_rejected: Callable | None = None
    on_withdrawn: Callable | None = None
    #: ids of staff who processed the document, or whom it concerns, and so may not approve it
    processors: Callable = field(default=lambda doc: set())
    title: Callable = field(default=lambda doc: str(doc))


_REGISTRY: dict[str, DocumentType] = {}


def register(doc_type: DocumentType) -> DocumentType:
    if not doc_type.steps:
        raise ValueError(f"{doc_type.code} declares no approval steps")
    _REGISTRY[doc_type.code] = doc_type
    return doc_type


def get(code: str) -> DocumentType:
    return _REGISTRY[code]


def for_document(doc) -> DocumentType:
    return _REGISTRY[doc.doc_type]


def all_types() -> list[DocumentType]:
    return list(_REGISTRY.values())
