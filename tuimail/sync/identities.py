"""An account's From addresses: its main address and its ``[[identities]]``.

Plain configuration, no store: the compose screen asks for them before the store is open.
"""

from __future__ import annotations

from tuimail.config import AccountConfig
from tuimail.mail.compose import Draft, Identity


def identities(account: AccountConfig) -> list[Identity]:
    """The account's From addresses: its main address first, then [[identities]]."""
    main = Identity(account.email, account.display_name, account.signature)
    extra = [Identity(i.email, i.display_name, i.signature) for i in account.identities]
    return [main, *extra]


def identity_for(account: AccountConfig, address: str | None) -> Identity:
    """The identity with ``address`` (case-insensitive), else the main one."""
    pool = identities(account)
    for identity in pool:
        if address and identity.email.casefold() == address.casefold():
            return identity
    return pool[0]


def new_draft(account: AccountConfig) -> Draft:
    """An empty message from the account's main identity."""
    return Draft(identities(account)[0])
