"""The platform (arbiter) address written into new escrows: the one address that may release.

It must be the platform wallet's own address (``ton.wallet``: WalletV5R1 from the configured
mnemonic, or the public sandbox one on the sandbox network), or escrows would name an arbiter
nobody can sign for. So it is read from the running platform wallet when this process has one,
and otherwise derived by the very function the platform wallet is built with.
"""

from __future__ import annotations

from typing import Protocol

from pytoniq_core.boc.address import Address

from chainfluence.config import Settings, TonNetwork
from chainfluence.escrow.exceptions import PlatformWalletNotConfigured
from chainfluence.ports import Configured, PayoutWallet
from chainfluence.ton.wallet import platform_mnemonic, platform_wallet_for


class _Ports(Configured, PayoutWallet, Protocol):
    """What this module needs of the process."""


def platform_address(runtime: _Ports) -> Address:
    if runtime.payout_sender is not None:
        return Address(runtime.payout_sender.address)
    return derived_platform_address(runtime.settings)


def derived_platform_address(settings: Settings) -> Address:
    mnemonic = platform_mnemonic(settings)
    if mnemonic is None:
        raise PlatformWalletNotConfigured()
    key = (mnemonic, settings.ton.network)
    if key not in _derived:
        # Key derivation is deliberately slow (PBKDF2): once per mnemonic and network.
        wallet = platform_wallet_for(settings)
        assert wallet is not None
        _derived[key] = wallet.raw_address
    return Address(_derived[key])


_derived: dict[tuple[str, TonNetwork], str] = {}
