"""Dashboard cards: each app contributes a card to the 工作台 the way it contributes menu entries.

A card is a template and a function of the user that returns the template's context, or
None when the card is not for this user (no permission, nothing in scope).  The web
dashboard renders the cards in order; core knows nothing of what they show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Card:
    code: str
    template: str
    #: user → the template's context, or None to leave the card out
    context: Callable[[object], dict | None]
    order: int = 100
    #: static scripts and stylesheets the card needs on the page (a chart's library and drawing code); the
    #: dashboard loads each once, in order, whichever cards ask for it
    scripts: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()


_CARDS: dict[str, Card] = {}


def register(card: Card) -> None:
    _CARDS[card.code] = card


def cards() -> list[Card]:
    return sorted(_CARDS.values(), key=lambda c: (c.order, c.code))
