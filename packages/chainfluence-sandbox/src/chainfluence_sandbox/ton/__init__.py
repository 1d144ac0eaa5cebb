"""The local TON chain emulator (DESIGN §7): accounts executed by the real TVM, toncenter v2 API.

async with run_ton_emulator() as emulator:
    wallet = SandboxWallet.create(emulator.chain, balance_nano=10 * TON)
    client = TonClient(emulator.api_url)       # the production client, unchanged
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chainfluence.kit.serving import serve_in_background
from chainfluence_sandbox.ton.api import create_ton_emulator
from chainfluence_sandbox.ton.chain import TonChain
from chainfluence_sandbox.ton.wallets import SandboxWallet

__all__ = [
    "RunningTonEmulator",
    "SandboxWallet",
    "TonChain",
    "create_ton_emulator",
    "run_ton_emulator",
]


@dataclass(frozen=True)
class RunningTonEmulator:
    chain: TonChain
    base_url: str

    @property
    def api_url(self) -> str:
        """The toncenter-v2 base URL (what ``CHAINFLUENCE_TON__API_URL`` would hold)."""
        return f"{self.base_url}/api/v2"


@contextlib.asynccontextmanager
async def run_ton_emulator(
    chain: TonChain | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningTonEmulator]:
    """Serve a chain (a new one unless given) on a loopback port until the block exits."""
    app, chain = create_ton_emulator(chain)
    async with serve_in_background(app, host=host, port=port) as base_url:
        yield RunningTonEmulator(chain=chain, base_url=base_url)
