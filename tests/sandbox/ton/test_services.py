"""`chainfluence serve` in sandbox mode: the local chain starts in-process, with the platform
wallet funded, and the runtime's chain services point at it."""

from __future__ import annotations

from pathlib import Path

from chainfluence.bootstrap import build_runtime
from chainfluence.ton.client import TonClient
from chainfluence_sandbox.services import PLATFORM_WALLET_FUNDS_NANO, sandbox_services
from tests.conftest import make_settings


async def test_sandbox_serve_starts_the_chain_with_a_funded_platform_wallet(
    tmp_path: Path,
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/sandbox.sqlite3", tmp_path)
    assert settings.ton.api_url is None

    async with sandbox_services(settings) as sandbox:
        runtime = build_runtime(sandbox.settings)
        try:
            assert runtime.chain is not None
            assert runtime.chain.wallet is not None
            account = await runtime.chain.client.get_account(runtime.chain.wallet.address)
        finally:
            await runtime.close()

    assert sandbox.settings.ton.api_url is not None
    assert account.balance_nano == PLATFORM_WALLET_FUNDS_NANO
    assert any("TON" in line for line in sandbox.lines)
    assert (tmp_path / "sandbox.ton-chain.json").exists()

    async with sandbox_services(
        settings
    ) as restarted:  # same chain after a restart, not funded twice
        assert restarted.settings.ton.api_url is not None
        async with TonClient(restarted.settings.ton.api_url) as client:
            again = await client.get_account(account.address)
    assert again.balance_nano == PLATFORM_WALLET_FUNDS_NANO
    assert again.last_lt == account.last_lt


async def test_configured_endpoint_starts_no_emulator(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3",
        tmp_path,
        ton={"api_url": "https://testnet.toncenter.com/api/v2", "network": "testnet"},
    )

    async with sandbox_services(settings) as sandbox:
        assert sandbox.settings.ton.api_url == "https://testnet.toncenter.com/api/v2"
        assert sandbox.lines == []
