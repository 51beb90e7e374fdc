"""The sections of the account 360 page (客户全景): each app contributes its own.

Customers registers the attributes, their history, the customer, changes, contracts and
the account's audit history; metering registers metering points and meters; apps built
later (reading, billing, payments) register reads, bills and payments the same way, so
the page grows with the system without customers importing any app above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Panel:
    code: str
    title: str
    template: str
    order: int
    #: (request, account) → the template context of the panel
    context: Callable
    #: any one of these suffices to see the panel (empty: whoever may see the account)
    permissions: tuple[str, ...] = ()


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _PANELS[panel.code] = panel
    return panel


def panels_for(request, account) -> list[tuple[Panel, dict]]:
    from powercis.core import authz

    result = []
    for panel in sorted(_PANELS.values(), key=lambda p: p.order):
        if panel.permissions and not any(authz.authorize(request.user, p, account.org) for p in panel.permissions):
            continue
        result.append((panel, panel.context(request, account)))
    return result
