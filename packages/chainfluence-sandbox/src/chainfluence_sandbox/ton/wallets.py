"""Test wallets on the local chain: real v4r2 / v5r1 wallet code, signed like a wallet app signs.

A ``SandboxWallet`` is what a person's wallet would be: a mnemonic, an address, and transfers
that go through the wallet contract (signature and seqno checked by its own code in the TVM).
"""

from __future__ import annotations

import secrets

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from ton_core import ton_mnemonic_new

from chainfluence.kit.time import utcnow
from chainfluence.ton.signing import (
    OfflineWallet,
    OutgoingMessage,
    SignedMessage,
    WalletVersion,
    comment_body,
)
from chainfluence_sandbox.ton.chain import TonChain
from chainfluence_sandbox.tvm import AccountStatus

__all__ = ["SandboxWallet", "new_mnemonic"]

_TTL_SECONDS = 60


def new_mnemonic() -> list[str]:
    words: list[str] = ton_mnemonic_new(24)
    return words


class SandboxWallet:
    def __init__(self, chain: TonChain, wallet: OfflineWallet) -> None:
        self.chain = chain
        self.wallet = wallet

    @classmethod
    def create(
        cls,
        chain: TonChain,
        *,
        balance_nano: int = 0,
        version: WalletVersion = WalletVersion.v5r1,
        mnemonic: list[str] | str | None = None,
    ) -> SandboxWallet:
        """A wallet (from ``mnemonic``, or a random key), funded with ``balance_nano`` if > 0."""
        if mnemonic is not None:
            offline = OfflineWallet(mnemonic, version=version)
        else:
            # A random key: deriving one from a new mnemonic costs PBKDF2 rounds for nothing.
            offline = OfflineWallet(private_key=secrets.token_bytes(32), version=version)
        wallet = cls(chain, offline)
        if balance_nano > 0:
            chain.fund(wallet.address, balance_nano)
        return wallet

    @property
    def address(self) -> Address:
        return self.wallet.address

    @property
    def raw_address(self) -> str:
        return self.wallet.raw_address

    @property
    def mnemonic(self) -> list[str] | None:
        return self.wallet.mnemonic

    @property
    def balance_nano(self) -> int:
        return self.chain.balance(self.address)

    def seqno(self) -> int:
        account = self.chain.account(self.address)
        if account.status is not AccountStatus.ACTIVE:
            return 0
        seqno: int = self.chain.run_get_method(self.address, "seqno").stack[0]
        return seqno

    async def sign(self, messages: list[OutgoingMessage]) -> SignedMessage:
        deployed = self.chain.account(self.address).status is AccountStatus.ACTIVE
        return await self.wallet.sign(
            messages,
            seqno=self.seqno(),
            valid_until=int(utcnow().timestamp()) + _TTL_SECONDS,
            deploy=not deployed,
        )

    async def transfer(
        self,
        destination: Address | str,
        value_nano: int,
        *,
        comment: str | None = None,
        body: Cell | None = None,
        state_init: StateInit | None = None,
        bounce: bool | None = None,
    ) -> str:
        """Send ``value_nano`` (plus fees, paid separately) to ``destination``; returns the hash
        of the external message. Like wallet apps, it sends non-bounceable to an address that is
        not active unless told otherwise."""
        target = destination if isinstance(destination, Address) else Address(destination)
        if comment is not None and body is not None:
            raise ValueError("give a comment or a body, not both")
        if bounce is None:
            bounce = self.chain.account(target).status is AccountStatus.ACTIVE
        message = OutgoingMessage(
            destination=target,
            value_nano=value_nano,
            body=comment_body(comment) if comment is not None else body,
            state_init=state_init,
            bounce=bounce,
        )
        signed = await self.sign([message])
        return self.chain.send_external(signed.cell)
