"""Settings: environment variables with nested groups, and production refusing sandbox defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chainfluence.config import SANDBOX_BOT_TOKEN, Mode, Settings

PRODUCTION = {
    "mode": "production",
    "database": {"url": "postgresql+asyncpg://app@db.internal/chainfluence"},
    "redis": {"url": "redis://redis.internal:6379/0"},
    "auth": {"jwt_secret": "a-real-secret-that-is-long-enough-0123456789", "operators": [42]},
    "telegram": {"bot_token": "123:real", "webhook_url": "https://api.example/telegram/webhook",
                 "webhook_secret": "s3cret-token", "service_chat_id": -1002000000001},
    "ton": {"network": "testnet", "api_url": "https://testnet.toncenter.com/api/v2",
            "fee_recipient": "0:" + "ab" * 32, "wallet_mnemonic": " ".join(["word"] * 24)},
    "evidence": {"signing_key": "5e" * 32},
}  # fmt: skip


def test_nested_environment_variables_configure_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINFLUENCE_DATABASE__URL", "postgresql+asyncpg://x@h/db")
    monkeypatch.setenv("CHAINFLUENCE_AUTH__OPERATORS", "[1, 2]")
    monkeypatch.setenv("CHAINFLUENCE_TON__FEE_BPS", "250")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.database.url == "postgresql+asyncpg://x@h/db"
    assert settings.auth.operators == [1, 2]
    assert settings.ton.fee_bps == 250
    assert settings.mode is Mode.sandbox


def test_sandbox_defaults_run_without_configuration() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.is_sandbox
    assert settings.database.is_sqlite
    assert settings.bot_token == SANDBOX_BOT_TOKEN


def test_complete_production_settings_are_accepted() -> None:
    settings = Settings(_env_file=None, **PRODUCTION)  # type: ignore[arg-type]

    assert settings.production_problems() == []


def test_production_accepts_a_complete_mtproto_views_session() -> None:
    mtproto = {"enabled": True, "api_id": 12345, "api_hash": "0123abcd", "session_path": "/d/bot"}
    telegram = {**PRODUCTION["telegram"], "mtproto": mtproto}  # type: ignore[dict-item]
    settings = Settings(_env_file=None, **{**PRODUCTION, "telegram": telegram})  # type: ignore[arg-type]

    assert settings.production_problems() == []
    assert settings.telegram.mtproto.api_id == 12345


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"database": {"url": "sqlite+aiosqlite:///x.db"}}, "must point at PostgreSQL"),
        ({"auth": {"operators": [42]}}, "JWT_SECRET is the sandbox default"),
        ({"telegram": {"service_chat_id": -1002000000001}}, "BOT_TOKEN is not set"),
        ({"ton": {**PRODUCTION["ton"], "network": "sandbox"}}, "NETWORK is sandbox"),
        (
            {"ton": {**PRODUCTION["ton"], "network": "mainnet", "wallet_mnemonic": None}},
            "mainnet needs CHAINFLUENCE_TON__WALLET_MNEMONIC",
        ),
        (
            {"ton": {**PRODUCTION["ton"], "wallet_mnemonic": None}},
            "testnet needs CHAINFLUENCE_TON__WALLET_MNEMONIC",
        ),
        ({"ton": {**PRODUCTION["ton"], "api_url": None}}, "API_URL is not set"),
        ({"ton": {**PRODUCTION["ton"], "fee_recipient": None}}, "FEE_RECIPIENT is not set"),
        ({"fault_point": "payout_broadcast"}, "FAULT_POINT is for crash tests only"),
        (
            {"ton": {**PRODUCTION["ton"], "fee_recipient": "-1:" + "ab" * 32}},
            "FEE_RECIPIENT must be a basechain",
        ),
        ({"ton": {**PRODUCTION["ton"], "fee_recipient": "nowhere"}}, "is not a TON address"),
        ({"redis": {}}, "CHAINFLUENCE_REDIS__URL is not set"),
        ({"auth": {**PRODUCTION["auth"], "operators": []}}, "OPERATORS is empty"),
        (
            {"telegram": {**PRODUCTION["telegram"], "service_chat_id": None}},
            "SERVICE_CHAT_ID is not set",
        ),
        (
            {"telegram": {**PRODUCTION["telegram"], "mtproto": {"enabled": True, "api_id": 1}}},
            "MTProto views are enabled but CHAINFLUENCE_TELEGRAM__MTPROTO__API_HASH is not set",
        ),
        (
            {
                "telegram": {
                    **PRODUCTION["telegram"],
                    "mtproto": {"enabled": True, "api_id": 1, "api_hash": "abc"},
                }
            },
            "CHAINFLUENCE_TELEGRAM__MTPROTO__SESSION_PATH is not set",
        ),
    ],
)
def test_production_refuses_each_sandbox_default(override: dict[str, object], problem: str) -> None:
    values = {**PRODUCTION, **override}

    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, **values)  # type: ignore[arg-type]

    assert problem in str(refused.value)
    assert "production mode refuses sandbox defaults" in str(refused.value)


def test_a_short_jwt_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(_env_file=None, auth={"jwt_secret": "short"})  # type: ignore[call-arg]


async def test_an_enabled_mtproto_session_is_wired_as_a_telethon_views_provider(
    tmp_path: Path,
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from telethon import TelegramClient

    from chainfluence.telegram.mtproto import MTProtoViewsProvider
    from chainfluence.telegram.stats_providers import configured_providers

    session = tmp_path / "bot"
    mtproto = {"enabled": True, "api_id": 1, "api_hash": "abc", "session_path": str(session)}
    settings = Settings(_env_file=None, telegram={"bot_token": "123:abc", "mtproto": mtproto})  # type: ignore[call-arg]
    engine = create_async_engine("sqlite+aiosqlite://")

    providers = configured_providers(settings, engine)

    assert [type(p) for p in providers] == [MTProtoViewsProvider]
    client = providers[0]._client_factory()  # type: ignore[attr-defined]
    assert isinstance(client, TelegramClient)
    # Telethon keeps the auth key in a session file, so a restart does not log in again.
    assert (tmp_path / "bot.session").exists()
    client.session.close()
    await engine.dispose()


def test_production_refuses_a_missing_or_sandbox_evidence_key() -> None:
    from chainfluence.config import sandbox_evidence_seed

    without = {key: value for key, value in PRODUCTION.items() if key != "evidence"}
    unset = Settings(_env_file=None, **{**without, "mode": "sandbox"})  # type: ignore[arg-type]
    sandbox_key = {"signing_key": sandbox_evidence_seed().hex()}
    sandboxed = Settings(_env_file=None, **{**without, "mode": "sandbox", "evidence": sandbox_key})  # type: ignore[arg-type]

    assert unset.production_problems() == [
        "CHAINFLUENCE_EVIDENCE__SIGNING_KEY is not set (the Ed25519 seed evidence packs are "
        "signed with)"
    ]
    assert sandboxed.production_problems() == [
        "CHAINFLUENCE_EVIDENCE__SIGNING_KEY is the sandbox key"
    ]
    assert unset.evidence_seed == sandbox_evidence_seed()


def test_an_evidence_key_must_be_32_bytes_and_may_be_hex_or_base64() -> None:
    import base64

    seed = bytes(range(32))
    as_hex = Settings(_env_file=None, evidence={"signing_key": seed.hex()})  # type: ignore[call-arg]
    as_b64 = Settings(
        _env_file=None,  # type: ignore[call-arg]
        evidence={"signing_key": base64.b64encode(seed).decode()},
    )

    assert as_hex.evidence_seed == as_b64.evidence_seed == seed
    with pytest.raises(ValidationError, match="an Ed25519 key must be 32 bytes"):
        Settings(_env_file=None, evidence={"signing_key": "ab" * 31})  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="an Ed25519 key must be 32 bytes"):
        Settings(_env_file=None, evidence={"previous_public_keys": ["nope"]})  # type: ignore[call-arg]
