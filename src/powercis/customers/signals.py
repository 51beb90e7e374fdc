"""Signals other apps listen to; customers never imports them (apps depend downwards only).

``accounts_changed`` is sent, after the transaction commits, with the ids of accounts
whose searchable or displayed data changed (name, address, phones, meters…); the
search index refreshes them.  Bulk writers send it once with all ids.
"""

from django.db import transaction
from django.dispatch import Signal

accounts_changed = Signal()  # kwargs: account_ids (list[int])


def notify_accounts_changed(account_ids) -> None:
    ids = sorted(set(account_ids))
    if ids:
        transaction.on_commit(lambda: accounts_changed.send(sender=None, account_ids=ids))
