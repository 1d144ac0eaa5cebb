"""A TON Connect wallet for tests: a real Ed25519 key, a genuine v4r2/v5r1 StateInit, real proofs.

The proof is built here from the TON Connect spec (ton-proof-item-v2), independently of the
`ton-connect` library the backend verifies it with, so the tests check the library's layout too.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from nacl.signing import SigningKey
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from ton_core import NetworkGlobalID, PrivateKey, WalletV5Config, WalletV5SubwalletID
from tonutils.contracts import WalletV4R2, WalletV5R1

from chainfluence.kit.time import utcnow
from chainfluence_sandbox.ton_connect import ton_proof_digest

MAINNET = -239
TESTNET = -3
DOMAIN = "localhost"  # the settings' default allow-list

Version = Literal["v4r2", "v5r1"]


@dataclass
class TonConnectWallet:
    version: Version = "v4r2"
    chain: int = MAINNET
    seed: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def __post_init__(self) -> None:
        self.key = SigningKey(self.seed)
        private_key = PrivateKey(self.seed)
        if self.version == "v4r2":
            wallet: Any = WalletV4R2.from_private_key(None, private_key)  # type: ignore[arg-type]
        else:
            network = NetworkGlobalID(self.chain)
            config = WalletV5Config(subwallet_id=WalletV5SubwalletID(network=network))
            wallet = WalletV5R1.from_private_key(None, private_key, config=config)  # type: ignore[arg-type]
        self.state_init_cell: Cell = wallet.state_init.serialize()
        self.address: Address = wallet.address

    @property
    def raw(self) -> str:
        return str(self.address.to_str(is_user_friendly=False))

    @property
    def friendly(self) -> str:
        return str(
            self.address.to_str(
                is_user_friendly=True,
                is_url_safe=True,
                is_bounceable=False,
                is_test_only=self.chain == TESTNET,
            )
        )

    @property
    def public_key(self) -> str:
        return bytes(self.key.verify_key).hex()

    @property
    def state_init(self) -> str:
        return base64.b64encode(self.state_init_cell.to_boc()).decode()

    def sign_proof(
        self, *, payload: str, domain: str, timestamp: int, address: Address | None = None
    ) -> str:
        """TON Connect's ton_proof signature, base64, as a wallet makes it."""
        digest = ton_proof_digest(
            address or self.address, payload=payload, domain=domain, timestamp=timestamp
        )
        return base64.b64encode(self.key.sign(digest).signature).decode()

    def link_body(
        self,
        payload: str,
        *,
        domain: str = DOMAIN,
        timestamp: int | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """`POST /v1/users/me/wallet` body: TON Connect's account plus its ton_proof reply."""
        timestamp = timestamp if timestamp is not None else int(utcnow().timestamp())
        body: dict[str, Any] = {
            "address": self.raw,
            "network": str(self.chain),
            "publicKey": self.public_key,
            "stateInit": self.state_init,
            "proof": {
                "timestamp": timestamp,
                "domain": {"lengthBytes": len(domain.encode()), "value": domain},
                "signature": self.sign_proof(payload=payload, domain=domain, timestamp=timestamp),
                "payload": payload,
            },
        }
        body.update(overrides)
        return body


async def new_payload(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.get("/v1/wallet/ton-proof/payload", headers=headers)
    assert response.status_code == 200, response.text
    payload: str = response.json()["payload"]
    return payload


async def link_wallet(
    client: httpx.AsyncClient, headers: dict[str, str], wallet: TonConnectWallet | None = None
) -> TonConnectWallet:
    """Prove and link `wallet` (a new v4r2 one by default) for the logged-in user."""
    wallet = wallet or TonConnectWallet()
    payload = await new_payload(client, headers)
    response = await client.post(
        "/v1/users/me/wallet", json=wallet.link_body(payload), headers=headers
    )
    assert response.status_code == 200, response.text
    return wallet
