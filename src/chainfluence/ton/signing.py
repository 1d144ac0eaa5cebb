"""Standard wallets (v4r2, v5r1) signing external messages offline.

The wallet code cells and the message layouts come from the installed ``tonutils``/``ton-core``;
nothing of theirs is copied here. tonutils' public ``build_external_message`` first calls
``refresh()`` (a network round trip for the seqno) and picks ``valid_until`` from the system clock,
so it cannot sign offline or with our clock. The lower-level builder it uses underneath takes the
seqno and ``valid_until`` explicitly, which is exactly what a sender that records every attempt
before broadcasting it needs (see ``chainfluence.ton.wallet``).

Cells cross the boundary as BOC bytes: our code uses ``pytoniq_core``, tonutils its fork
``ton_core``.
"""

from __future__ import annotations

import base64
import enum
import functools
from dataclasses import dataclass
from typing import Any, Final

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from ton_core import Address as TAddress
from ton_core import Cell as TCell
from ton_core import (
    NetworkGlobalID,
    PrivateKey,
    WalletMessage,
    WalletV4Params,
    WalletV5Params,
    normalize_hash,
)
from ton_core import StateInit as TStateInit
from tonutils.contracts.wallet.messages import ExternalMessage as TExternalMessage
from tonutils.contracts.wallet.messages import InternalMessage as TInternalMessage
from tonutils.contracts.wallet.versions.v4 import WalletV4R2
from tonutils.contracts.wallet.versions.v5 import WalletV5R1

__all__ = [
    "SEND_MODE_PAY_FEES_SEPARATELY",
    "OfflineWallet",
    "OutgoingMessage",
    "SignedMessage",
    "WalletVersion",
]

# +1 pay forwarding fees from the wallet balance, +2 ignore errors of this message. WalletV5R1
# refuses an external whose messages lack +2 (a failing message must not block the seqno).
SEND_MODE_PAY_FEES_SEPARATELY: Final = 1
SEND_MODE_IGNORE_ERRORS: Final = 2
DEFAULT_SEND_MODE: Final = SEND_MODE_PAY_FEES_SEPARATELY | SEND_MODE_IGNORE_ERRORS


class WalletVersion(enum.StrEnum):
    v4r2 = "v4r2"
    v5r1 = "v5r1"


_CLASSES: Final[dict[WalletVersion, Any]] = {
    WalletVersion.v4r2: WalletV4R2,
    WalletVersion.v5r1: WalletV5R1,
}
_PARAMS: Final[dict[WalletVersion, Any]] = {
    WalletVersion.v4r2: WalletV4Params,
    WalletVersion.v5r1: WalletV5Params,
}


@functools.lru_cache(maxsize=64)
def _mnemonic_seed(mnemonic: str) -> bytes:
    """The Ed25519 seed of a TON mnemonic (validated). PBKDF2 makes this slow: once per process."""
    _wallet, _public, private, _words = _CLASSES[WalletVersion.v5r1].from_mnemonic(
        _Offline(NetworkGlobalID.MAINNET), mnemonic.split()
    )
    seed: bytes = private.as_bytes
    return seed


class _Offline:
    """What tonutils' wallet classes read from a client while signing: the network id only."""

    def __init__(self, network: NetworkGlobalID) -> None:
        self.network = network
        self.provider = None


def _to_ton_core(cell: Cell) -> Any:
    return TCell.one_from_boc(cell.to_boc())  # type: ignore[no-untyped-call]


def _state_init_to_ton_core(state_init: StateInit | None) -> Any:
    if state_init is None:
        return None
    code = _to_ton_core(state_init.code) if state_init.code is not None else None
    data = _to_ton_core(state_init.data) if state_init.data is not None else None
    return TStateInit(code=code, data=data)


def _from_ton_core(cell: Any) -> Cell:
    return Cell.one_from_boc(cell.to_boc())


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One internal message for the wallet to send."""

    destination: Address
    value_nano: int
    body: Cell | None = None
    state_init: StateInit | None = None
    bounce: bool = True
    send_mode: int = DEFAULT_SEND_MODE

    def __post_init__(self) -> None:
        if self.value_nano < 0:
            raise ValueError("value_nano must not be negative")
        if not self.send_mode & SEND_MODE_IGNORE_ERRORS:
            raise ValueError("wallet messages must ignore their errors (send mode +2)")


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """An external message ready to broadcast, and the identifiers to track it by."""

    cell: Cell
    seqno: int
    valid_until: int

    @property
    def boc(self) -> bytes:
        data: bytes = self.cell.to_boc()  # type: ignore[no-untyped-call]
        return data

    @property
    def boc_b64(self) -> str:
        return base64.b64encode(self.boc).decode()

    @property
    def hash(self) -> str:
        """Hash of the message cell (what toncenter's sendBocReturnHash calls ``hash``)."""
        return bytes(self.cell.hash).hex()

    @property
    def normalized_hash(self) -> str:
        """The hash explorers index external messages by (independent of the source field)."""
        return str(normalize_hash(self.boc_b64))


class OfflineWallet:
    """A wallet keypair and its address for one network; signs without touching the network."""

    def __init__(
        self,
        mnemonic: str | list[str] | None = None,
        *,
        private_key: bytes | None = None,
        version: WalletVersion = WalletVersion.v5r1,
        network: NetworkGlobalID = NetworkGlobalID.MAINNET,
    ) -> None:
        """From a mnemonic (as wallet apps derive it) or a raw 32-byte Ed25519 seed."""
        if (mnemonic is None) == (private_key is None):
            raise ValueError("give a mnemonic or a private key")
        self.version = version
        self.network = network
        self._mnemonic: list[str] | None = None
        if mnemonic is not None:
            words = mnemonic.split() if isinstance(mnemonic, str) else list(mnemonic)
            private_key = _mnemonic_seed(" ".join(words))
            self._mnemonic = words
        assert private_key is not None
        self._wallet = _CLASSES[version].from_private_key(
            _Offline(network), PrivateKey(private_key)
        )
        self.address = Address(self._wallet.address.to_str(is_user_friendly=False))
        state_init = self._wallet.state_init
        self.state_init = StateInit(
            code=_from_ton_core(state_init.code), data=_from_ton_core(state_init.data)
        )

    @property
    def mnemonic(self) -> list[str] | None:
        return list(self._mnemonic) if self._mnemonic is not None else None

    @property
    def raw_address(self) -> str:
        raw: str = self.address.to_str(is_user_friendly=False)  # type: ignore[no-untyped-call]
        return raw

    async def sign(
        self,
        messages: list[OutgoingMessage],
        *,
        seqno: int,
        valid_until: int,
        deploy: bool,
    ) -> SignedMessage:
        """The external message sending ``messages`` at ``seqno``, valid until the unix time.

        ``deploy`` attaches the wallet's StateInit, for a wallet that is not active yet.
        """
        if not messages:
            raise ValueError("nothing to send")
        wallet_messages = [
            WalletMessage(
                send_mode=m.send_mode,
                message=TInternalMessage(
                    dest=TAddress(m.destination.to_str(is_user_friendly=False)),  # type: ignore[no-untyped-call]
                    value=m.value_nano,
                    bounce=m.bounce,
                    body=_to_ton_core(m.body) if m.body is not None else None,
                    state_init=_state_init_to_ton_core(m.state_init),
                ),
            )
            for m in messages
        ]
        params = _PARAMS[self.version](seqno=seqno, valid_until=valid_until)
        body = await self._wallet._build_signed_msg_cell(wallet_messages, params)
        external = TExternalMessage(
            dest=self._wallet.address,
            body=body,
            state_init=self._wallet.state_init if deploy else None,
        )
        return SignedMessage(
            cell=Cell.one_from_boc(external.to_boc()), seqno=seqno, valid_until=valid_until
        )


def comment_body(text: str) -> Cell:
    """A text comment body (op 0, snake-encoded UTF-8)."""
    body: Cell = Builder().store_uint(0, 32).store_snake_string(text).end_cell()
    return body
