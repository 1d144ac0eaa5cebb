"""The platform (arbiter) address written into new escrows: the one address that may release.

It must be the platform wallet's own address (``ton.wallet``: WalletV5R1 from the configured
mnemonic, or the public sandbox one on the sandbox network), or escrows would name an arbiter
nobody can sign for. So it is read from the running platform wallet when this process has one,
and otherwise derived by the very function the platform wallet is built with.
"""

from __future__ import annotations

from pytoniq_core.boc.address import Address

from chainfluence.config import Settings, TonNetwork
from chainfluence.escrow.exceptions import PlatformWalletNotConfigured
from chainfluence.runtime import Runtime
from chainfluence.ton.wallet import platform_mnemonic, platform_wallet_for


def platform_address(runtime: Runtime) -> Address:
    if runtime.chain is not None and runtime.chain.wallet is not None:
        return Address(runtime.chain.wallet.address)
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
