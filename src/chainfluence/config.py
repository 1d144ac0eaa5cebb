"""Settings: one pydantic-settings object, env prefix `CHAINFLUENCE_`, nested groups joined by `__`.

`CHAINFLUENCE_DATABASE__URL`, `CHAINFLUENCE_TELEGRAM__BOT_TOKEN`, `CHAINFLUENCE_TON__NETWORK`, ...
A `.env` file in the working directory is honoured. With nothing configured the service runs as the
embedded sandbox (SQLite file, in-process jobs, local Telegram and TON emulators); production mode
refuses to start while any sandbox default is left in place.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chainfluence.kit.faults import FaultPoint
from chainfluence.kit.ton_address import to_raw

SANDBOX_JWT_SECRET = "chainfluence-sandbox-jwt-secret-not-for-production"  # noqa: S105
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./var/chainfluence.sqlite3"
# The bot the local Telegram emulator runs when no real token is configured.
SANDBOX_BOT_TOKEN = "7000000001:SANDBOX-chainfluence-local-emulator-token"  # noqa: S105
# SANDBOX ONLY: the platform wallet of the local TON chain, public so a fresh checkout runs whole
# deals with no configuration. Never fund it on a real network: anyone can read it here.
SANDBOX_PLATFORM_MNEMONIC = (
    "dream cotton income video salad vehicle sleep already palace tide build patrol "
    "melt anger neck this patch kitchen pipe addict joy board artwork slush"
)


# SANDBOX ONLY: the seed the sandbox signs evidence packs with (public, so packs are reproducible
# and anyone can tell a sandbox pack apart). Production refuses it.
SANDBOX_EVIDENCE_SEED_TEXT = "chainfluence-sandbox-evidence-key-not-for-production"


class Mode(StrEnum):
    sandbox = "sandbox"
    production = "production"


class InitDataValidation(StrEnum):
    """How initData is checked: HMAC with the bot token, or Telegram's Ed25519 signature."""

    hmac = "hmac"
    signature = "signature"


class DatabaseSettings(BaseModel):
    url: str = SANDBOX_DATABASE_URL
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class RedisSettings(BaseModel):
    # Without a URL everything (jobs, rate limits) runs in-process.
    url: str | None = None


class AuthSettings(BaseModel):
    jwt_secret: SecretStr = SecretStr(SANDBOX_JWT_SECRET)
    # Rotation: tokens signed with these are still accepted (new ones use `jwt_secret`); drop
    # a previous secret once `jwt_ttl_seconds` have passed since it stopped signing.
    jwt_previous_secrets: list[SecretStr] = Field(default_factory=list)
    jwt_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    init_data_max_age_seconds: int = Field(default=3600, ge=10)
    # Tolerated clock skew for initData dated slightly in the future.
    init_data_clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    init_data_validation: InitDataValidation = InitDataValidation.hmac
    # Ed25519 public key for third-party validation: "production", "test" or 64 hex characters.
    telegram_public_key: str = "production"
    operators: list[int] = Field(default_factory=list)

    @field_validator("jwt_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("the JWT secret must be at least 32 bytes")
        return value

    @field_validator("jwt_previous_secrets")
    @classmethod
    def _previous_secrets_long_enough(cls, values: list[SecretStr]) -> list[SecretStr]:
        for value in values:
            cls._secret_long_enough(value)
        return values


class MTProtoSettings(BaseModel):
    """Post views over MTProto through the bot's own session (Telethon); off unless enabled."""

    enabled: bool = False
    # From my.telegram.org (the application the bot's session logs in as).
    api_id: int | None = None
    api_hash: SecretStr | None = None
    # Telethon session file: kept across restarts, on a volume every worker that may hold the
    # `telegram.mtproto` role can reach.
    session_path: str | None = None
    # A FLOOD_WAIT up to this is slept through; a longer one pauses the provider until it is over.
    max_flood_wait_seconds: float = Field(default=60.0, ge=0)

    def problems(self) -> list[str]:
        """What an enabled provider lacks (nothing when it is off)."""
        if not self.enabled:
            return []
        missing = []
        if self.api_id is None:
            missing.append("CHAINFLUENCE_TELEGRAM__MTPROTO__API_ID")
        if _blank(self.api_hash):
            missing.append("CHAINFLUENCE_TELEGRAM__MTPROTO__API_HASH")
        if not self.session_path:
            missing.append("CHAINFLUENCE_TELEGRAM__MTPROTO__SESSION_PATH")
        return [f"MTProto views are enabled but {name} is not set" for name in missing]


class TelegramSettings(BaseModel):
    # No token: sandbox mode starts the local Bot API emulator and uses its token.
    bot_token: SecretStr | None = None
    # Only needed for third-party initData validation when the token is not held by the API.
    bot_id: int | None = None
    bot_username: str | None = None
    # A custom Bot API server (self-hosted, or the emulator); default is api.telegram.org.
    api_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Where the Mini App lives; deep links open it with a start parameter.
    mini_app_url: str = "https://t.me/chainfluence_bot/app"
    # The Mini App's own https address (BotFather's Web App URL), for `web_app` buttons in
    # private chats; unset: those buttons fall back to `url` buttons with `mini_app_url`.
    web_app_url: str | None = None
    # A private group where the bot is a member: post probes are forwarded there and deleted.
    service_chat_id: int | None = None
    # Sandbox and tests: read post views through the Bot API emulator's control API.
    emulator_url: str | None = None
    # Telegram's send limits, enforced across processes (Redis) before each send.
    send_limit_per_chat: str = "1/second"
    send_limit_global: str = "30/second"
    # Channel stats: the periodic sweep refreshes figures older than this; on-demand refreshes
    # of one channel are limited to `stats_refresh_limit`.
    stats_max_age_seconds: int = Field(default=6 * 3600, ge=60)
    stats_refresh_limit: str = "1/5minute"
    mtproto: MTProtoSettings = Field(default_factory=MTProtoSettings)


class TonNetwork(StrEnum):
    sandbox = "sandbox"
    testnet = "testnet"
    mainnet = "mainnet"


class TonWatchMode(StrEnum):
    """How the chain watcher finds escrow transactions (see ``chainfluence.ton.watcher``)."""

    auto = "auto"  # block scanning if the endpoint serves block methods, else per address
    blocks = "blocks"  # cost independent of the number of open escrows
    accounts = "accounts"  # one call per open escrow per cycle


class TonSettings(BaseModel):
    network: TonNetwork = TonNetwork.sandbox
    # toncenter-v2-style endpoint; unset in sandbox mode, where the local chain emulator serves it.
    api_url: str | None = None
    api_key: SecretStr | None = None
    wallet_mnemonic: SecretStr | None = None
    fee_bps: int = Field(default=500, ge=0, le=5000)
    fee_recipient: str | None = None
    ton_proof_domains: list[str] = Field(default_factory=lambda: ["localhost"])
    ton_proof_ttl_seconds: int = Field(default=900, ge=30)
    # Requests per second the endpoint allows (toncenter: 1 without an API key, 10 with one).
    api_rps: float | None = Field(default=None, gt=0)
    watch_mode: TonWatchMode = TonWatchMode.auto
    watch_interval_seconds: float = Field(default=3.0, gt=0)
    # Per-address polling keeps looking for late payments to cancelled deals this long.
    cancelled_watch_days: int = Field(default=30, ge=0)
    wallet_interval_seconds: float = Field(default=5.0, gt=0)
    # A signed platform-wallet message is valid this long; after that (plus this delivery
    # timeout, once its seqno is used) the sender may sign the order again.
    message_ttl_seconds: int = Field(default=60, ge=10, le=3600)
    delivery_timeout_seconds: int = Field(default=180, ge=10)

    @property
    def testnet(self) -> bool:
        """User-friendly addresses carry the test-only flag (`kQ…`/`0Q…`) on testnet."""
        return self.network is TonNetwork.testnet


class EventsSettings(BaseModel):
    """GET /v1/events (Server-Sent Events)."""

    # A comment line this often keeps proxies from closing an idle stream.
    heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # Streams also look in the database this often, should an announcement be lost.
    poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_streams_per_user: int = Field(default=5, ge=1, le=100)
    # The `?ticket=` a browser's EventSource sends (it cannot set headers): valid this long.
    ticket_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    # The outbox keeps each event this long for `Last-Event-ID` replays (`events.prune_outbox`):
    # a client away longer reloads its lists instead of replaying.
    retention_days: int = Field(default=7, ge=1, le=365)


class RateLimitSettings(BaseModel):
    enabled: bool = True
    per_ip: str = "600/minute"
    per_user: str = "300/minute"
    login_per_ip: str = "60/minute"


class UploadSettings(BaseModel):
    dir: Path = Path("./var/uploads")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_pixels: int = Field(default=40_000_000, ge=1)

    def path_of(self, file_id: str) -> Path:
        """Where the uploaded file `file_id` is stored (under a two-character fan-out folder)."""
        return self.dir / file_id[:2] / file_id


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:5173", "http://127.0.0.1:5173"]
    )
    # Trust X-Forwarded-For from these proxies (for per-IP limits behind a load balancer).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Requests larger than these are refused (413 / 431) before their body is read; uploads
    # have their own limit (uploads.max_bytes).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    # Requests at work at once per process (0: no bound); the others wait their turn, and after
    # `queue_wait_seconds` get 503 with Retry-After. A request still at work after
    # `slot_lease_seconds` (an upload, an event stream, a call out) frees its slot for the next.
    concurrent_requests: int = Field(default=16, ge=0)
    slot_lease_seconds: float = Field(default=0.5, gt=0)
    queue_wait_seconds: float = Field(default=10.0, gt=0)


class JobSettings(BaseModel):
    queue_name: str = "chainfluence"
    concurrency: int = Field(default=8, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    backoff_seconds: float = Field(default=2.0, gt=0)
    sweep_interval_seconds: float = Field(default=15.0, gt=0)


class WorkerSettings(BaseModel):
    """`chainfluence worker`: its health port, and how long SIGTERM waits for work under way."""

    # /healthz, /readyz and /metrics of the worker (0: any free port, printed at start-up).
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=0, le=65535)
    # After SIGTERM the worker takes no new job and lets the ones running finish this long;
    # a job cut off after that is retried by another worker (handlers are idempotent).
    grace_seconds: float = Field(default=30.0, gt=0)


class DealSettings(BaseModel):
    """Deadlines and verification of the deal lifecycle (DESIGN §3, §5)."""

    # The advertiser funds the escrow within this window (cut short to the scheduled time).
    deposit_window_hours: float = Field(default=24, gt=0)
    # Without a scheduled time, the creative must be approved within this long of the deal.
    creative_window_hours: float = Field(default=72, gt=0)
    # After the scheduled time, publishing is retried this long before the advertiser is refunded.
    posting_grace_hours: float = Field(default=24, gt=0)
    # Random probes of a live post within its hold, plus one at its end.
    probes_per_hold: int = Field(default=3, ge=0, le=50)
    # A probe that cannot run (Telegram down) is retried after this long.
    probe_retry_seconds: float = Field(default=60, gt=0)
    # A check through MTProto takes along the channel's other live ads whose next random probe
    # (never a final check) is due within this many seconds: one call answers for them all.
    probe_batch_ahead_seconds: float = Field(default=600, ge=0)
    # After this many failed final checks in a row an operator decides (a dispute is opened).
    max_unavailable_checks: int = Field(default=10, ge=1)
    eternal_hold_days: float = Field(default=30, gt=0)
    test_hold_seconds: float = Field(default=300, gt=0)
    # After an edit of a live post is found, the advertiser has this long to accept it; otherwise
    # the advertiser is refunded. The hold clock keeps running meanwhile (the post stays up).
    edit_window_hours: float = Field(default=2, gt=0)
    # How long one publishing attempt may hold its lease before another may try.
    publish_lease_seconds: float = Field(default=120, gt=0)
    sweep_interval_seconds: float = Field(default=10, gt=0)


class SandboxSettings(BaseModel):
    """Sandbox only: the emulators run as their own process (`chainfluence sandbox up`)."""

    # That process's base URL: an `api` or `worker` follows its clock (moved by
    # `POST /v1/sandbox/clock/advance`) so every process shares one time. Refused in production.
    url: str | None = None
    # How often the clock is read from it.
    clock_poll_seconds: float = Field(default=0.25, gt=0, le=10)


class EvidenceSettings(BaseModel):
    """The platform's Ed25519 key that signs evidence packs (`chainfluence.evidence`)."""

    # The private key's 32-byte seed, 64 hex digits (or base64). Unset in the sandbox: a public
    # key derived from SANDBOX_EVIDENCE_SEED_TEXT; production refuses that and an unset key.
    signing_key: SecretStr | None = None
    # Public keys (64 hex digits) of keys that signed packs before a rotation: still published
    # at /.well-known/chainfluence-evidence-key so older packs keep verifying.
    previous_public_keys: list[str] = Field(default_factory=list)

    @field_validator("signing_key")
    @classmethod
    def _seed_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            decode_key_bytes(value.get_secret_value())
        return value

    @field_validator("previous_public_keys")
    @classmethod
    def _public_keys_are_32_bytes(cls, values: list[str]) -> list[str]:
        return [decode_key_bytes(value).hex() for value in values]


def decode_key_bytes(text: str) -> bytes:
    """32 key bytes from 64 hex digits or base64 (standard or URL-safe); ValueError otherwise."""
    text = text.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("an Ed25519 key must be 32 bytes: 64 hex digits or base64")
    return raw


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHAINFLUENCE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    mode: Mode = Mode.sandbox
    # JSON log lines; unset: JSON in production, readable lines in the sandbox.
    log_json: bool | None = None
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8000"

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    ton: TonSettings = Field(default_factory=TonSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    deals: DealSettings = Field(default_factory=DealSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    evidence: EvidenceSettings = Field(default_factory=EvidenceSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    # Crash tests only: the process SIGKILLs itself at this point (chainfluence.kit.faults).
    fault_point: FaultPoint | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.mode is Mode.sandbox

    @property
    def bot_token(self) -> str | None:
        """The token initData is checked with: the configured one, or the emulator's in sandbox."""
        if self.telegram.bot_token is not None:
            return self.telegram.bot_token.get_secret_value()
        return SANDBOX_BOT_TOKEN if self.is_sandbox else None

    @property
    def bot_id(self) -> int | None:
        if self.telegram.bot_id is not None:
            return self.telegram.bot_id
        token = self.bot_token
        return int(token.split(":", 1)[0]) if token and token.split(":", 1)[0].isdigit() else None

    @property
    def evidence_seed(self) -> bytes:
        """The Ed25519 seed evidence packs are signed with (the sandbox's when none is set)."""
        key = self.evidence.signing_key
        if key is None or not key.get_secret_value().strip():
            return sandbox_evidence_seed()
        return decode_key_bytes(key.get_secret_value())

    def is_operator(self, user_id: int) -> bool:
        return user_id in self.auth.operators

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.mode is Mode.production

    @model_validator(mode="after")
    def _production_refuses_sandbox_defaults(self) -> Settings:
        if self.mode is not Mode.production:
            return self
        problems = self.production_problems()
        if problems:
            raise ProductionConfigError(problems)
        return self

    def production_problems(self) -> list[str]:
        """Every setting production cannot run a deal without, or still at a sandbox default."""
        problems: list[str] = []
        if self.database.is_sqlite:
            problems.append("CHAINFLUENCE_DATABASE__URL must point at PostgreSQL")
        if not self.redis.url:
            problems.append(
                "CHAINFLUENCE_REDIS__URL is not set (jobs, sweeps and the chain watcher run "
                "in workers, on Redis)"
            )
        if self.auth.jwt_secret.get_secret_value() == SANDBOX_JWT_SECRET:
            problems.append("CHAINFLUENCE_AUTH__JWT_SECRET is the sandbox default")
        if not self.auth.operators:
            problems.append(
                "CHAINFLUENCE_AUTH__OPERATORS is empty (disputes need an operator to resolve them)"
            )
        if _blank(self.telegram.bot_token) and not (
            self.auth.init_data_validation is InitDataValidation.signature
            and self.telegram.bot_id is not None
        ):
            problems.append("CHAINFLUENCE_TELEGRAM__BOT_TOKEN is not set")
        problems.extend(self.telegram.mtproto.problems())
        if self.telegram.mtproto.enabled and _blank(self.telegram.bot_token):
            problems.append("MTProto views log in with CHAINFLUENCE_TELEGRAM__BOT_TOKEN, not set")
        if self.telegram.webhook_url and _blank(self.telegram.webhook_secret):
            problems.append("a Telegram webhook needs CHAINFLUENCE_TELEGRAM__WEBHOOK_SECRET")
        if self.telegram.service_chat_id is None:
            problems.append(
                "CHAINFLUENCE_TELEGRAM__SERVICE_CHAT_ID is not set (live posts cannot be checked "
                "without it, so deals would never be released)"
            )
        if self.ton.network is TonNetwork.sandbox:
            problems.append("CHAINFLUENCE_TON__NETWORK is sandbox")
        elif _blank(self.ton.wallet_mnemonic):
            problems.append(
                f"{self.ton.network} needs CHAINFLUENCE_TON__WALLET_MNEMONIC (the platform wallet "
                "sends every payout and refund)"
            )
        if self.ton.network is not TonNetwork.sandbox and _blank(self.ton.api_url):
            problems.append("CHAINFLUENCE_TON__API_URL is not set")
        if self.ton.fee_recipient is None or _blank(self.ton.fee_recipient):
            problems.append("CHAINFLUENCE_TON__FEE_RECIPIENT is not set")
        elif (problem := _basechain_problem(self.ton.fee_recipient)) is not None:
            problems.append(f"CHAINFLUENCE_TON__FEE_RECIPIENT {problem}")
        if _blank(self.evidence.signing_key):
            problems.append(
                "CHAINFLUENCE_EVIDENCE__SIGNING_KEY is not set (the Ed25519 seed evidence packs "
                "are signed with)"
            )
        elif self.evidence_seed == sandbox_evidence_seed():
            problems.append("CHAINFLUENCE_EVIDENCE__SIGNING_KEY is the sandbox key")
        if self.sandbox.url is not None:
            problems.append("CHAINFLUENCE_SANDBOX__URL (the emulators' clock) is sandbox only")
        if self.fault_point is not None:
            problems.append("CHAINFLUENCE_FAULT_POINT is for crash tests only")
        return problems


class ProductionConfigError(ValueError):
    """Production settings that cannot run a deal; `problems` names each, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("production mode refuses sandbox defaults: " + "; ".join(problems))


def sandbox_evidence_seed() -> bytes:
    return hashlib.sha256(SANDBOX_EVIDENCE_SEED_TEXT.encode()).digest()


def _blank(value: str | SecretStr | None) -> bool:
    """Unset, or set to nothing (an empty line in an env file)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is None or not value.strip()


def _basechain_problem(address: str) -> str | None:
    try:
        raw = to_raw(address)
    except ValueError:
        return f"is not a TON address: {address!r}"
    if not raw.startswith("0:"):
        return f"must be a basechain (workchain 0) address, not {address!r}"
    return None


def describe_problems(error: Exception) -> list[str]:
    """Each problem of a refused configuration, as a line naming its environment variable.

    Invalid values are listed, and so is what production would refuse besides them (found by
    reading the settings again with the invalid values set aside), so one message has it all."""
    if not isinstance(error, ValidationError):
        return [str(error)]
    lines: list[str] = []
    invalid: list[tuple[str, ...]] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, ProductionConfigError):
            lines.extend(cause.problems)
            continue
        loc = tuple(str(part) for part in item["loc"])
        name = "CHAINFLUENCE_" + "__".join(part.upper() for part in loc)
        message = str(cause) if cause is not None else item["msg"]
        lines.append(f"{name}: {message}")
        invalid.append(loc)
    if invalid:
        named = {line.split(":", 1)[0].split(" ", 1)[0] for line in lines}
        lines.extend(p for p in _problems_besides(invalid) if p.split(" ", 1)[0] not in named)
    return lines


def _problems_besides(invalid: list[tuple[str, ...]]) -> list[str]:
    """Production's problems with the settings at `invalid` locations back at their defaults."""
    overrides: dict[str, Any] = {}
    for loc in invalid:
        model: type[BaseModel] = Settings
        target = overrides
        for depth, part in enumerate(loc):
            field = model.model_fields.get(part)
            if field is None:
                break
            annotation = field.annotation
            nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
            if nested and depth < len(loc) - 1:
                target = target.setdefault(part, {})
                model = annotation  # type: ignore[assignment]
                continue
            target[part] = field.get_default(call_default_factory=True)
            break
    try:
        Settings(**overrides)
    except ValidationError as again:
        return [
            problem
            for item in again.errors()
            if isinstance(cause := (item.get("ctx") or {}).get("error"), ProductionConfigError)
            for problem in cause.problems
        ]
    except ValueError:
        return []
    return []


@functools.cache
def get_settings() -> Settings:
    return Settings()
