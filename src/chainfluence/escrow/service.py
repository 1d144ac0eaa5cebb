"""Payment requests: fix a deal's escrow terms once, then hand out the same contract every time.

The first request for a pending deal freezes its terms in one locked transaction: deal id, platform
(arbiter) address, the advertiser's proven wallet (refunds), the channel owner's proven wallet
(payout), fee recipient, price, fee and the refund-after time. They determine the escrow's address
(``ton.escrow``), which is stored on the deal with the exact StateInit bytes, and a timeline entry
records them. Later requests rebuild nothing from current data: they return the stored StateInit,
so the terms (and the address the watcher follows) never change once fixed, whatever happens to
wallets or settings afterwards.

``refund_after`` = the latest time the post may go up (posting deadline) + the format's hold +
``REFUND_MARGIN``. From that moment anyone may refund the advertiser, racing any release
(contracts/README.md), so it must lie beyond the latest possible release: the margin covers the
final check, sending and confirming the release, and an operator's decision on a dispute opened at
the end of the hold.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Protocol
from urllib.parse import urlencode

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import DealSettings, Settings, TonNetwork
from chainfluence.deals import repository as deals
from chainfluence.deals import schedule
from chainfluence.deals.service import FixedEscrow, fix_escrow
from chainfluence.escrow import platform, schemas
from chainfluence.escrow.exceptions import (
    AdvertiserOnly,
    DealNotPayable,
    DepositDeadlinePassed,
    WalletsMissing,
)
from chainfluence.kit.time import from_unix, utcnow
from chainfluence.kit.ton_address import friendly, to_raw
from chainfluence.models import Channel, Deal, DealStatus, User
from chainfluence.ports import Configured, PayoutWallet
from chainfluence.ton.escrow import (
    EscrowTerms,
    deposit_comment_body,
    escrow_state_init,
    escrow_version_of_state_init,
)
from chainfluence.ton.ton_proof import TonChain
from chainfluence.users import repository as users


class _Ports(Configured, PayoutWallet, Protocol):
    """What this module needs of the process."""


REFUND_MARGIN = dt.timedelta(days=7)
# Only for a deal that carries no posting deadline or schedule at all.
DEFAULT_POSTING_WINDOW = dt.timedelta(days=14)
# How long a wallet may take to send the TON Connect request (wallets cap it near this anyway).
PAYMENT_VALID_FOR = dt.timedelta(minutes=5)


async def request_payment(
    session: AsyncSession, *, deal_id: int, user: User, runtime: _Ports
) -> schemas.PaymentRequest:
    """The payment request for the deal's advertiser, fixing the escrow terms the first time."""
    deal = await deals.get_for_update(session, deal_id)
    assert deal is not None  # loaded (and access-checked) by the route's PartyDeal
    if user.id != deal.advertiser_id:
        raise AdvertiserOnly()
    if deal.status is not DealStatus.pending:
        raise DealNotPayable(deal.status)
    now = utcnow()
    if deal.deposit_deadline_at is not None and deal.deposit_deadline_at <= now:
        raise DepositDeadlinePassed()
    if deal.escrow_address is None:
        await _fix_terms(session, deal, actor_id=user.id, runtime=runtime, now=now)
    return _payment_request(deal, runtime.settings, now=now)


def refund_after_for(deal: Deal, *, now: dt.datetime, settings: DealSettings) -> dt.datetime:
    """When anyone may refund: after the latest possible release, with a margin."""
    planned = [t for t in (deal.posting_deadline_at, deal.scheduled_at) if t is not None]
    latest_post = max(planned) if planned else now + DEFAULT_POSTING_WINDOW
    latest_post = max(latest_post, now)
    moment = latest_post + schedule.spec_for(deal.format, settings).hold + REFUND_MARGIN
    return from_unix(int(moment.timestamp()))  # the contract keeps whole seconds


async def _fix_terms(
    session: AsyncSession, deal: Deal, *, actor_id: int, runtime: _Ports, now: dt.datetime
) -> None:
    channel = await session.get(Channel, deal.channel_id)
    assert channel is not None  # deals reference channels with ON DELETE RESTRICT
    # Payouts go to the channel's owner, even when a manager of it made the deal.
    advertiser_wallet = await users.current_wallet(session, deal.advertiser_id)
    publisher_wallet = await users.current_wallet(session, channel.owner_id)
    if advertiser_wallet is None or publisher_wallet is None:
        raise WalletsMissing(
            advertiser=advertiser_wallet is None, publisher=publisher_wallet is None
        )

    platform_address = platform.platform_address(runtime)
    terms = EscrowTerms(
        deal_id=deal.id,
        platform=platform_address,
        advertiser=Address(advertiser_wallet.address),
        publisher=Address(publisher_wallet.address),
        fee_recipient=_fee_recipient(runtime.settings, platform_address),
        price_nano=deal.price_nano,
        fee_nano=deal.platform_fee_nano,
        refund_after=int(
            refund_after_for(deal, now=now, settings=runtime.settings.deals).timestamp()
        ),
    )
    state_init = escrow_state_init(terms)  # the current contract version
    state_init_cell = state_init.serialize()
    version, code = escrow_version_of_state_init(state_init_cell)
    fixed = FixedEscrow(
        address=_raw(Address((0, state_init_cell.hash))),
        platform=_raw(terms.platform),
        state_init_b64=_b64(state_init_cell),
        advertiser_wallet=_raw(terms.advertiser),
        publisher_wallet=_raw(terms.publisher),
        fee_recipient=_raw(terms.fee_recipient),
        refund_after=from_unix(terms.refund_after),
    )
    await fix_escrow(
        session,
        deal,
        fixed,
        actor_id=actor_id,
        details={
            "priceNano": str(terms.price_nano),
            "feeNano": str(terms.fee_nano),
            "refundAfter": terms.refund_after,
            "contractVersion": int(version),
            "codeHash": bytes(code.hash).hex(),
        },
    )


def _fee_recipient(settings: Settings, platform_address: Address) -> Address:
    # Unset only outside production (production refuses to start without it): the platform.
    if settings.ton.fee_recipient:
        return Address(to_raw(settings.ton.fee_recipient))
    return platform_address


def _payment_request(deal: Deal, settings: Settings, *, now: dt.datetime) -> schemas.PaymentRequest:
    assert deal.escrow_address is not None
    assert deal.escrow_state_init is not None
    state_init = Cell.one_from_boc(base64.b64decode(deal.escrow_state_init))
    if _raw(Address((0, state_init.hash))) != deal.escrow_address:
        # The stored bytes are the terms; a mismatch means the row was altered behind our back.
        raise RuntimeError(f"deal {deal.id}: stored escrow StateInit does not match its address")
    body = deposit_comment_body(f"Chainfluence deal #{deal.id}")
    testnet = settings.ton.network is TonNetwork.testnet
    # Contracts are addressed bounceable (EQ…), as TON Connect asks; wallets are shown UQ….
    address = friendly(deal.escrow_address, testnet=testnet, bounceable=True)
    valid_until = now + PAYMENT_VALID_FOR
    if deal.deposit_deadline_at is not None:
        valid_until = min(valid_until, deal.deposit_deadline_at)
    valid_until_unix = int(valid_until.timestamp())
    amount = deal.price_nano
    state_init_b64, payload_b64 = _b64(state_init), _b64(body)
    transfer_url = f"ton://transfer/{address}?" + urlencode(
        {
            "amount": str(amount),
            "bin": _b64url(body),
            "init": _b64url(state_init),
        }
    )
    return schemas.PaymentRequest(
        deal_id=deal.id,
        address=address,
        raw_address=deal.escrow_address,
        amount_nano=amount,
        amount=amount,
        state_init=state_init_b64,
        payload=payload_b64,
        valid_until=valid_until_unix,
        ton_transfer_url=transfer_url,
        transaction=schemas.TonConnectTransaction(
            valid_until=valid_until_unix,
            network=_chain_id(settings.ton.network),
            from_=deal.advertiser_wallet,
            messages=[
                schemas.TonConnectMessage(
                    address=address, amount=amount, state_init=state_init_b64, payload=payload_b64
                )
            ],
        ),
        terms=_terms(deal, state_init, testnet=testnet),
    )


def _terms(deal: Deal, state_init: Cell, *, testnet: bool) -> schemas.EscrowTerms:
    assert deal.escrow_platform is not None
    assert deal.advertiser_wallet is not None
    assert deal.publisher_wallet is not None
    assert deal.fee_recipient is not None
    assert deal.refund_after is not None
    version, code = escrow_version_of_state_init(state_init)
    return schemas.EscrowTerms(
        deal_id=deal.id,
        platform_address=friendly(deal.escrow_platform, testnet=testnet),
        platform_address_raw=deal.escrow_platform,
        advertiser_address=friendly(deal.advertiser_wallet, testnet=testnet),
        advertiser_address_raw=deal.advertiser_wallet,
        publisher_address=friendly(deal.publisher_wallet, testnet=testnet),
        publisher_address_raw=deal.publisher_wallet,
        fee_recipient=friendly(deal.fee_recipient, testnet=testnet),
        fee_recipient_raw=deal.fee_recipient,
        price_nano=deal.price_nano,
        fee_nano=deal.platform_fee_nano,
        publisher_payout_nano=deal.price_nano - deal.platform_fee_nano,
        refund_after=deal.refund_after,
        contract_version=int(version),
        code_hash=bytes(code.hash).hex(),
    )


def _chain_id(network: TonNetwork) -> str | None:
    # The sandbox's chain is local: no wallet network matches it, so none is demanded.
    if network is TonNetwork.mainnet:
        return str(int(TonChain.mainnet))
    if network is TonNetwork.testnet:
        return str(int(TonChain.testnet))
    return None


def _raw(address: Address) -> str:
    return str(address.to_str(is_user_friendly=False))  # type: ignore[no-untyped-call]


def _boc(cell: Cell) -> bytes:
    return bytes(cell.to_boc())  # type: ignore[no-untyped-call]


def _b64(cell: Cell) -> str:
    return base64.b64encode(_boc(cell)).decode()


def _b64url(cell: Cell) -> str:
    return base64.urlsafe_b64encode(_boc(cell)).decode()
