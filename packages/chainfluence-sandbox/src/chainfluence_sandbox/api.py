"""Sandbox helper routes under /v1/sandbox: play a whole deal from the API docs page.

What a newcomer cannot do by hand — sign Telegram initData, answer a TON Connect ton_proof, pay
from a wallet app, wait days for a hold — these routes do on their behalf, as the person's
Telegram app and wallet app would: initData is minted by the Telegram emulator and exchanged at
the real ``POST /v1/auth/login``; wallets are proven through the real challenge and verification
routes; payments execute the real payment request through the wallet's contract on the local
chain. Nothing here changes the marketplace's own state directly.

Mounted only in sandbox mode with the emulators running (``chainfluence.app.create_app``);
production never imports this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chainfluence.deals import repository as deals
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.kit import time as clock
from chainfluence.kit.money import format_ton
from chainfluence.kit.schemas import IntId, TgId
from chainfluence.kit.ton_address import friendly, to_raw
from chainfluence.models import Deal, DealStatus
from chainfluence.users.schemas import User
from chainfluence_sandbox import schemas
from chainfluence_sandbox.clock import save_offset
from chainfluence_sandbox.exceptions import (
    DealNotPosted,
    EmulatorNotRunning,
    NoSandboxWallet,
    NotEnoughSandboxFunds,
    TelegramRefused,
    WalletAppRefused,
    WalletNotSandbox,
)
from chainfluence_sandbox.keyring import SandboxKey, SandboxKeyring
from chainfluence_sandbox.own_api import OwnApi
from chainfluence_sandbox.services import SandboxServices
from chainfluence_sandbox.telegram import (
    BotAccount,
    Chat,
    ChatType,
    EmulatorState,
    MemberStatus,
    Message,
)
from chainfluence_sandbox.telegram.actions import delete_post, edit_post
from chainfluence_sandbox.telegram.errors import EmulatorUsageError
from chainfluence_sandbox.telegram.webapp import build_init_data
from chainfluence_sandbox.ton import TonChain
from chainfluence_sandbox.ton_connect import MAINNET, TransactionRefused, send_transaction
from chainfluence_sandbox.ton_connect import ton_proof_reply as build_ton_proof_reply
from chainfluence_sandbox.wallet_bridge import wallet_bridge_router

__all__ = ["install_sandbox_routes", "sandbox_router"]

# Above what a wallet's own fees and the escrow's deployment cost, so a payment that passes this
# check is not silently dropped by the wallet contract for want of gas.
_FEES_MARGIN_NANO = 50_000_000
_POLL_SECONDS = 0.2

_WALKTHROUGH = """Sandbox only: act as the people of the local Telegram and as their wallet
apps. With the demo world (publisher **7000000002** owns @crypto_daily_sandbox, channel id
-1001000000001, where the bot is an admin; advertiser **7000000003**), a whole deal:

1. `POST /v1/sandbox/users/7000000002/wallet` with `{"amount": 0}` and
   `POST /v1/sandbox/users/7000000003/wallet`: wallets on the local chain, proven with a real
   TON Connect ton_proof (the advertiser's gets 100 TON).
2. `POST /v1/sandbox/login/7000000002`; paste its `authorization` into "Authorize".
   `PATCH /v1/users/me` `{"isPublisher": true}`; `POST /v1/channels`
   `{"username": "crypto_daily_sandbox"}`; `PATCH /v1/channels/-1001000000001`
   `{"category": "crypto", "pricing": [{"format": "test", "price": 10}]}`.
3. Log in as 7000000003 the same way. `PATCH /v1/users/me` `{"isAdvertiser": true}`;
   `POST /v1/campaigns` `{"title": "My launch", "category": "crypto", "creativeText": "Hello"}`.
4. As the publisher: `POST /v1/campaigns/{id}/offers` `{"channelId": "-1001000000001",
   "amount": "10", "format": "test", "proposedDate": <an hour after GET /v1/sandbox/clock>}`.
   As the advertiser: `POST /v1/offers/{id}/accept`: the answer's `dealId`.
5. `POST /v1/sandbox/deals/{dealId}/pay`: the escrow is funded; the deal is `in_escrow`.
6. As the publisher: `POST /v1/deals/{dealId}/creatives/1/approve`.
7. `POST /v1/sandbox/clock/advance` `{"seconds": 3605}`: the bot publishes the post (`live`).
8. `POST /v1/sandbox/clock/advance` `{"seconds": 310}`: the hold passes and the escrow pays the
   publisher (`released`). Or first `POST /v1/sandbox/deals/{dealId}/post/delete`: a refund.

The app's loops act within seconds of each step: follow along with `GET /v1/deals/{dealId}` and
`GET /v1/deals/{dealId}/timeline`. `chainfluence demo` plays the same story by itself.
"""


def _creator(chat: Chat) -> int | None:
    for member in chat.members.values():
        if member.status == MemberStatus.CREATOR:
            return member.user_id
    return None


def sandbox_router(services: SandboxServices) -> APIRouter:
    router = APIRouter(prefix="/sandbox", tags=["sandbox"])

    def telegram() -> tuple[EmulatorState, BotAccount]:
        if services.telegram is None or services.bot is None:
            raise EmulatorNotRunning("Telegram", "CHAINFLUENCE_TELEGRAM__BOT_TOKEN")
        return services.telegram.state, services.bot

    def ton() -> tuple[TonChain, SandboxKeyring]:
        if services.ton is None or services.keyring is None:
            raise EmulatorNotRunning("TON chain", "CHAINFLUENCE_TON__API_URL")
        return services.ton.chain, services.keyring

    def own_api(request: Request) -> OwnApi:
        # Under `sandbox up` the API is other processes; under `serve` it is this app.
        if services.api_url is not None:
            return OwnApi(base_url=services.api_url)
        return OwnApi(request.app)

    async def deal_of(request: Request, deal_id: int) -> Deal:
        if services.sessionmaker is not None:
            return await _deal(services.sessionmaker, deal_id)
        return await _deal(request.app.state.runtime.sessionmaker, deal_id)

    def wallet_fields(chain: TonChain, key: SandboxKey) -> dict[str, Any]:
        account = chain.account(key.raw_address)
        return {
            "user_id": key.user_id,
            "address": friendly(key.raw_address),
            "raw_address": key.raw_address,
            "network": MAINNET,
            "balance": account.balance_nano,
            "balance_nano": account.balance_nano,
            "status": account.status.value,
        }

    async def login_as(
        api: OwnApi, user_id: int, profile: schemas.TelegramProfile | None = None
    ) -> schemas.SandboxLogin:
        state, bot = telegram()
        person = state.users.get(user_id)
        if person is None:
            profile = profile or schemas.TelegramProfile()
            try:
                person = state.add_user(
                    first_name=profile.first_name or f"User {user_id}",
                    last_name=profile.last_name,
                    username=profile.username,
                    language_code=profile.language_code,
                    user_id=user_id,
                )
            except EmulatorUsageError as exc:
                raise TelegramRefused(str(exc)) from None
        elif person.is_bot:
            raise TelegramRefused(f"{user_id} is a bot; only people log in to the Mini App.")
        init_data = build_init_data(state, bot, person)
        answer = await api.call("POST", "/v1/auth/login", json={"initData": init_data})
        return schemas.SandboxLogin(
            init_data=init_data,
            access_token=answer["access_token"],
            token_type=answer["token_type"],
            expires_in=answer["expires_in"],
            authorization=f"Bearer {answer['access_token']}",
            user=User.model_validate(answer["user"]),
        )

    @router.get("", response_model=schemas.SandboxWorld)
    async def world() -> schemas.SandboxWorld:
        """The sandbox at a glance: its people, channels, wallets, clock and emulators (whose
        control pages act as any Telegram user, or fund any address)."""
        telegram_out = None
        if services.telegram is not None and services.bot is not None:
            state = services.telegram.state
            demo = services.world
            roles: dict[int, str] = {}
            if demo is not None:
                roles = {
                    demo.publisher_id: "publisher: owns @crypto_daily_sandbox",
                    demo.advertiser_id: "advertiser",
                    demo.second_publisher_id: "publisher: owns a private channel",
                    demo.newcomer_id: "newcomer: no role yet",
                }
            people = [
                schemas.Person(
                    id=user.id,
                    name=" ".join(filter(None, [user.first_name, user.last_name])),
                    username=user.username,
                    role=roles.get(user.id, "person"),
                )
                for user in state.users.values()
                if not user.is_bot
            ]
            channels = [
                schemas.SandboxChannel(
                    id=chat.id,
                    username=chat.username,
                    title=chat.title,
                    owner_id=owner,
                    subscribers=chat.member_count(),
                )
                for chat in state.chats.values()
                if chat.type is ChatType.CHANNEL and (owner := _creator(chat)) is not None
            ]
            telegram_out = schemas.TelegramEmulator(
                api_url=services.telegram.base_url,
                control_docs_url=f"{services.telegram.base_url}/docs",
                bot_username=services.bot.user.username or "",
                people=people,
                channels=channels,
            )
        ton_out, wallets = None, []
        if services.ton is not None and services.keyring is not None:
            ton_out = schemas.TonEmulator(
                api_url=services.ton.api_url, control_docs_url=f"{services.ton.base_url}/docs"
            )
            wallets = [
                schemas.SandboxWallet(**wallet_fields(services.ton.chain, key))
                for key in services.keyring.all()
            ]
        return schemas.SandboxWorld(
            now=clock.utcnow(), telegram=telegram_out, ton=ton_out, wallets=wallets
        )

    @router.post("/login/{user_id}", response_model=schemas.SandboxLogin)
    async def login(
        user_id: TgId,
        request: Request,
        profile: Annotated[schemas.TelegramProfile | None, Body()] = None,
    ) -> schemas.SandboxLogin:
        """Log in as any Telegram user of the emulator, as the Mini App does.

        The emulator signs initData for the user (creating them, with the optional profile, if
        Telegram does not know them yet) and it is exchanged at the real `POST /v1/auth/login`,
        so the access token is a real one. Paste `authorization` into the docs' "Authorize".
        """
        async with own_api(request) as api:
            return await login_as(api, user_id, profile)

    @router.get("/users/{user_id}/wallet", response_model=schemas.SandboxWallet)
    async def get_wallet(user_id: TgId) -> schemas.SandboxWallet:
        """The user's sandbox wallet and its balance on the local chain."""
        chain, keyring = ton()
        key = keyring.for_user(user_id)
        if key is None:
            raise NoSandboxWallet(user_id)
        return schemas.SandboxWallet(**wallet_fields(chain, key))

    @router.post("/users/{user_id}/wallet", response_model=schemas.LinkedWallet)
    async def link_wallet(
        user_id: TgId,
        request: Request,
        body: Annotated[schemas.WalletRequest | None, Body()] = None,
    ) -> schemas.LinkedWallet:
        """Give the user a wallet on the local chain, fund it, and link it with TON Connect.

        A v5r1 wallet (one per user; asking again tops it up and proves it again) answers a
        challenge from the real `GET /v1/wallet/ton-proof/payload` with a genuine ton_proof,
        which the real `POST /v1/users/me/wallet` verifies. The sandbox keeps the key, so
        `POST /v1/sandbox/deals/{dealId}/pay` can pay from it later.
        """
        body = body or schemas.WalletRequest()
        chain, keyring = ton()
        if body.amount > schemas.MAX_WALLET_FUNDS_NANO:
            raise WalletAppRefused(
                f"the sandbox mints at most {format_ton(schemas.MAX_WALLET_FUNDS_NANO)} TON at once"
            )
        async with own_api(request) as api:
            token = (await login_as(api, user_id)).access_token
            key = keyring.get_or_create(user_id)
            if body.amount > 0:
                chain.fund(key.raw_address, body.amount)
            challenge = await api.call("GET", "/v1/wallet/ton-proof/payload", token=token)
            reply = build_ton_proof_reply(
                key,
                payload=challenge["payload"],
                domain=_proof_domain(services),
            )
            user = await api.call("POST", "/v1/users/me/wallet", token=token, json=reply)
        return schemas.LinkedWallet(
            **wallet_fields(chain, key),
            funded=body.amount,
            user=User.model_validate(user),
        )

    @router.post("/deals/{deal_id}/pay", response_model=schemas.DealPayment)
    async def pay_deal(
        deal_id: IntId,
        request: Request,
        body: Annotated[schemas.DealPaymentRequest | None, Body()] = None,
    ) -> schemas.DealPayment:
        """Pay the deal's escrow from the advertiser's sandbox wallet, as their wallet app would.

        The advertiser asks the real `POST /v1/deals/{dealId}/payment` for the TON Connect
        `sendTransaction` request; the sandbox wallet that request names signs and sends it on
        the local chain. The call then waits (up to `waitSeconds`) for the chain watcher to
        record the deposit: with the full price the deal moves to `in_escrow`.
        """
        body = body or schemas.DealPaymentRequest()
        chain, keyring = ton()
        advertiser_id = (await deal_of(request, deal_id)).advertiser_id
        async with own_api(request) as api:
            token = (await login_as(api, advertiser_id)).access_token
            payment = await api.call("POST", f"/v1/deals/{deal_id}/payment", token=token)
            transaction = payment["transaction"]
            sender = to_raw(transaction.get("from") or payment["terms"]["advertiserAddress"])
            key = keyring.by_address(sender)
            if key is None:
                raise WalletNotSandbox(friendly(sender), advertiser_id)
            amount = body.amount if body.amount is not None else int(payment["amountNano"])
            balance = chain.balance(key.raw_address)
            if balance < amount + _FEES_MARGIN_NANO:
                raise NotEnoughSandboxFunds(
                    needed=format_ton(amount), balance=format_ton(balance), user_id=advertiser_id
                )
            before = await api.call("GET", f"/v1/deals/{deal_id}", token=token)
            try:
                message_hash = await send_transaction(
                    chain, key, transaction, amount_nano=body.amount
                )
            except TransactionRefused as exc:
                raise WalletAppRefused(str(exc)) from None
            deal = await _await_deposit(api, deal_id, token, before, body.wait_seconds)
        balance = chain.balance(key.raw_address)
        return schemas.DealPayment(
            deal_id=deal_id,
            status=DealStatus(deal["status"]),
            escrow_address=payment["address"],
            sent=amount,
            sent_nano=amount,
            deposited_nano=int(deal["depositedNano"]),
            missing_nano=int(deal["missingNano"]),
            from_address=friendly(key.raw_address),
            message_hash=message_hash,
            wallet_balance=balance,
            wallet_balance_nano=balance,
        )

    @router.get("/clock", response_model=schemas.Clock)
    async def get_clock() -> schemas.Clock:
        """The sandbox's current time (use it to pick an offer's `proposedDate`)."""
        return _clock()

    @router.post("/clock/advance", response_model=schemas.Clock)
    async def advance_clock(body: schemas.ClockAdvance) -> schemas.Clock:
        """Move time forward for the whole sandbox: the app, the Telegram emulator and the chain.

        Deadlines, scheduled posts and holds then fall due; the app's periodic sweeps act on
        them within a few seconds. Time never moves back, not even when the sandbox restarts.
        """
        clock.advance(dt.timedelta(seconds=body.seconds))
        save_offset(services.clock_path)
        return _clock()

    @router.post("/deals/{deal_id}/post/delete", response_model=schemas.ChannelPost)
    async def delete_deal_post(deal_id: IntId, request: Request) -> schemas.ChannelPost:
        """As the channel's owner, delete the deal's ad post in Telegram.

        Telegram tells bots nothing about deletions: the app finds out at its next probe of the
        post (at the latest when the hold ends) and refunds the advertiser.
        """
        state = telegram()[0]
        chat, message_ids, owner = _deal_post(await deal_of(request, deal_id), state)
        try:
            for message_id in message_ids:
                delete_post(state, chat, message_id, by_user_id=owner)
        except EmulatorUsageError as exc:
            raise TelegramRefused(f"Telegram refused the deletion: {exc}") from None
        return _post_out(chat.messages[message_ids[0]], owner)

    @router.post("/deals/{deal_id}/post/edit", response_model=schemas.ChannelPost)
    async def edit_deal_post(
        deal_id: IntId, body: schemas.PostEdit, request: Request
    ) -> schemas.ChannelPost:
        """As the channel's owner, edit the text (or caption) of the deal's ad post.

        Telegram tells no bot about edits of its own posts: the app finds the edit at its next
        probe of the post, and the deal waits in `edit_pending` for the advertiser to accept it
        (or refunds them).
        """
        state = telegram()[0]
        chat, message_ids, owner = _deal_post(await deal_of(request, deal_id), state)
        message = chat.messages.get(message_ids[0])
        photo = message is not None and message.photo_file_id is not None
        try:
            edited = edit_post(
                state,
                chat,
                message_ids[0],
                by_user_id=owner,
                text=None if photo else body.text,
                caption=body.text if photo else None,
            )
        except EmulatorUsageError as exc:
            raise TelegramRefused(f"Telegram refused the edit: {exc}") from None
        return _post_out(edited, owner)

    return router


def install_sandbox_routes(app: FastAPI, services: SandboxServices) -> None:
    """Mount the helpers under /v1/sandbox, their section first on the docs page."""
    app.include_router(sandbox_router(services), prefix="/v1")
    app.include_router(wallet_bridge_router(services), prefix="/v1")
    app.openapi_tags = [
        {"name": "sandbox", "description": _WALKTHROUGH},
        *(app.openapi_tags or []),
    ]


def _proof_domain(services: SandboxServices) -> str:
    # The first domain the deployment accepts, as the Mini App's manifest would name it.
    return services.settings.ton.ton_proof_domains[0]


def _clock() -> schemas.Clock:
    return schemas.Clock(now=clock.utcnow(), offset_seconds=clock.offset().total_seconds())


async def _deal(sessionmaker: async_sessionmaker[AsyncSession], deal_id: int) -> Deal:
    """Read only: which people a helper acts as (the deal's advertiser, its channel's owner)."""
    async with sessionmaker() as session:
        deal = await deals.get(session, deal_id)
    if deal is None:
        raise DealNotFound()
    return deal


def _deal_post(deal: Deal, state: EmulatorState) -> tuple[Chat, list[int], int]:
    """The deal's channel, its post's message ids, and the channel's owner in Telegram."""
    message_ids = list(deal.post_message_ids or []) or (
        [deal.post_message_id] if deal.post_message_id is not None else []
    )
    if not message_ids:
        raise DealNotPosted()
    chat = state.find_chat(deal.channel_id)
    owner = _creator(chat) if chat is not None else None
    if chat is None or owner is None:
        raise TelegramRefused("The deal's channel has no owner in the Telegram emulator.")
    return chat, message_ids, owner


def _post_out(message: Message, owner: int) -> schemas.ChannelPost:
    return schemas.ChannelPost(
        channel_id=message.chat_id,
        message_id=message.message_id,
        text=message.text if message.text is not None else message.caption,
        edited_at=message.edit_date,
        deleted_at=message.deleted_at,
        by_user_id=owner,
    )


async def _await_deposit(
    api: OwnApi, deal_id: int, token: str, before: dict[str, Any], wait_seconds: float
) -> dict[str, Any]:
    """The deal once the watcher has recorded more deposited than ``before`` (or moved it on),
    or as it stands after ``wait_seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        deal: dict[str, Any] = await api.call("GET", f"/v1/deals/{deal_id}", token=token)
        moved = deal["status"] != before["status"]
        if moved or int(deal["depositedNano"]) > int(before["depositedNano"]):
            return deal
        if loop.time() >= deadline:
            return deal
        await asyncio.sleep(_POLL_SECONDS)
