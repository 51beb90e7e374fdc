"""Checks that must pass before an account may close (销户); later apps register their own.

Metering registers "no meter installed"; payments will register "no open balance".
Each check returns a refusal message, or None when it does not object.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

_CHECKS: list[Callable] = []


def register(check: Callable) -> Callable:
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def objections(account, on: dt.date) -> list[str]:
    return [msg for check in _CHECKS if (msg := check(account, on))]
