"""The sandbox wallets' keys: what lets the sandbox act as a person's wallet app.

``POST /v1/sandbox/users/{id}/wallet`` creates a wallet for a person on the local chain, and later
helpers (paying a deal) sign with its key. One wallet per person: asking again reuses it. The keys
live in memory and, when the database is a SQLite file, in a JSON file next to it (as the chain's
state does), so a restarted sandbox can still spend from the wallets its database has linked.
They are keys of a local emulated chain, worth nothing anywhere else.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from nacl.signing import SigningKey

from chainfluence.ton.signing import OfflineWallet, WalletVersion

__all__ = ["SandboxKey", "SandboxKeyring"]

_FORMAT = 1


@dataclass
class SandboxKey:
    """A person's sandbox wallet: an Ed25519 seed and the standard wallet code it runs."""

    user_id: int
    seed: bytes = field(repr=False)
    version: WalletVersion = WalletVersion.v5r1
    wallet: OfflineWallet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Mainnet's network id, as wallet apps default to: the local chain runs mainnet's config.
        self.wallet = OfflineWallet(private_key=self.seed, version=self.version)

    @property
    def raw_address(self) -> str:
        return self.wallet.raw_address

    @property
    def public_key(self) -> bytes:
        return bytes(SigningKey(self.seed).verify_key)

    def sign(self, message: bytes) -> bytes:
        return bytes(SigningKey(self.seed).sign(message).signature)


class SandboxKeyring:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._by_user: dict[int, SandboxKey] = {}
        self._by_address: dict[str, SandboxKey] = {}
        if path is not None and path.exists():
            stored = json.loads(path.read_text())
            for item in stored.get("wallets", []):
                self._remember(
                    SandboxKey(
                        user_id=int(item["userId"]),
                        seed=bytes.fromhex(item["seed"]),
                        version=WalletVersion(item["walletVersion"]),
                    )
                )

    def for_user(self, user_id: int) -> SandboxKey | None:
        return self._by_user.get(user_id)

    def by_address(self, raw_address: str) -> SandboxKey | None:
        return self._by_address.get(raw_address)

    def all(self) -> list[SandboxKey]:
        return list(self._by_user.values())

    def get_or_create(self, user_id: int) -> SandboxKey:
        """The person's sandbox wallet, made (and stored) on first use."""
        key = self._by_user.get(user_id)
        if key is None:
            key = SandboxKey(user_id=user_id, seed=secrets.token_bytes(32))
            self._remember(key)
            self._save()
        return key

    def _remember(self, key: SandboxKey) -> None:
        self._by_user[key.user_id] = key
        self._by_address[key.raw_address] = key

    def _save(self) -> None:
        if self.path is None:
            return
        body = {
            "format": _FORMAT,
            "note": "Sandbox wallets of the local TON chain emulator; worthless elsewhere.",
            "wallets": [
                {"userId": k.user_id, "walletVersion": k.version.value, "seed": k.seed.hex()}
                for k in self._by_user.values()
            ],
        }
        # Written whole and renamed into place: a crash never leaves half a file of keys.
        partial = self.path.with_name(self.path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(body, handle, indent=1)
        os.replace(partial, self.path)
