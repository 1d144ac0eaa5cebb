"""Wallet linking: issue ton_proof challenges, verify proofs, keep one current wallet per user.

A challenge (payload) is 32 random bytes, stored with the user it was issued to and an expiry; a
proof is accepted only for the caller's own, unexpired, unused challenge, and using it is one
conditional UPDATE, so a replay or a concurrent double submit links at most once. Everything is
checked before anything is written, and the request's transaction rolls back on any error: a
rejected proof changes nothing (the challenge stays usable until it expires; a forged signature
cannot be found by retrying).

Changing wallets: the new wallet becomes current at once and the old one is kept as history
(`unlinked_at`). Deals whose escrow terms were already fixed keep paying the address in their
contract: nothing can change it on chain, and refusing the new link would lock out exactly the
user who lost the old wallet. The user is told which deals still use the old address. Deals whose
terms are not yet fixed take the new wallet when their payment is first requested.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.config import Settings, TonNetwork
from chainfluence.kit.time import utcnow
from chainfluence.kit.ton_address import friendly
from chainfluence.models import NotificationType, RelatedType, TonProofPayload, User, Wallet
from chainfluence.notifications.service import notify
from chainfluence.ton.ton_proof import (
    ProofFailure,
    PublicKeyResolver,
    TonChain,
    TonProofClaim,
    TonProofRejected,
    verify_ton_proof,
)
from chainfluence.wallets import repository, schemas
from chainfluence.wallets.exceptions import (
    InvalidTonProof,
    ProofPayloadExpired,
    ProofPayloadUnknown,
    ProofPayloadUsed,
)

# Expired challenges are kept this long after expiry, then purged (see wallets.jobs).
PAYLOAD_RETENTION = dt.timedelta(days=1)


def accepted_chains(settings: Settings) -> frozenset[TonChain]:
    """The TON Connect networks whose wallets this deployment links.

    The sandbox accepts both: its local chain emulator runs the mainnet config (global id -239),
    so wallets built for mainnet (the default of wallet libraries and the emulator's test wallets)
    are the natural fit, while a developer's real testnet wallet (Tonkeeper in testnet mode) is
    just as usable there, and neither can reach real money through the sandbox's chain.
    """
    if settings.ton.network is TonNetwork.mainnet:
        return frozenset({TonChain.mainnet})
    if settings.ton.network is TonNetwork.testnet:
        return frozenset({TonChain.testnet})
    return frozenset({TonChain.mainnet, TonChain.testnet})


async def issue_payload(
    session: AsyncSession, *, user_id: int, settings: Settings
) -> TonProofPayload:
    now = utcnow()
    return await repository.add_payload(
        session,
        payload=secrets.token_hex(32),
        user_id=user_id,
        now=now,
        expires_at=now + dt.timedelta(seconds=settings.ton.ton_proof_ttl_seconds),
    )


async def link_wallet(
    session: AsyncSession,
    user: User,
    link: schemas.WalletLink,
    settings: Settings,
    *,
    resolve_public_key: PublicKeyResolver | None = None,
) -> Wallet:
    """Verify the proof and make its wallet the user's current one."""
    now = utcnow()
    challenge = await repository.get_payload(session, link.proof.payload)
    if challenge is None or challenge.user_id != user.id:
        raise ProofPayloadUnknown()
    if challenge.used_at is not None:
        raise ProofPayloadUsed()
    if challenge.expires_at <= now:
        raise ProofPayloadExpired()

    state_init = _state_init(link)
    claim = TonProofClaim(
        address=link.address,
        chain=link.network,
        public_key=link.public_key,
        state_init=state_init,
        timestamp=link.proof.timestamp,
        domain=link.proof.domain.value,
        domain_length=link.proof.domain.length_bytes,
        payload=link.proof.payload,
        signature=link.proof.signature,
    )
    try:
        proven = await verify_ton_proof(
            claim,
            allowed_domains=settings.ton.ton_proof_domains,
            accepted_chains=accepted_chains(settings),
            issued_at=challenge.created_at,
            now=now,
            resolve_public_key=resolve_public_key,
        )
    except TonProofRejected as exc:
        raise InvalidTonProof(exc) from None

    if not await repository.consume_payload(
        session, payload_id=challenge.id, user_id=user.id, now=now
    ):
        raise ProofPayloadUsed()

    await repository.lock_user(session, user.id)
    network = proven.chain.name
    current = await repository.current_wallet(session, user.id)
    if current is not None and current.address == proven.address and current.network == network:
        # The same wallet proven again: a fresher proof, no change of address.
        current.public_key = proven.public_key
        current.proof_domain = proven.domain
        current.verified_at = now
        await session.flush()
        return current
    if current is not None:
        current.unlinked_at = now
        # The partial unique index allows one current wallet: retire the old row first.
        await session.flush()
        await _tell_about_fixed_deals(session, user.id, current)
    return await repository.add_wallet(
        session,
        Wallet(
            user_id=user.id,
            address=proven.address,
            network=network,
            public_key=proven.public_key,
            proof_domain=proven.domain,
            verified_at=now,
        ),
    )


def _state_init(link: schemas.WalletLink) -> str:
    top, nested = link.state_init, link.proof.state_init
    if top and nested and top != nested:
        raise InvalidTonProof(
            TonProofRejected(
                ProofFailure.malformed,
                "stateInit and proof.stateInit differ; send the wallet's own.",
            )
        )
    state_init = top or nested
    if not state_init:
        # Without it the address cannot be tied to a key offline (see ton.ton_proof).
        raise InvalidTonProof(
            TonProofRejected(
                ProofFailure.malformed,
                "stateInit is required: send TON Connect's account.walletStateInit with the proof.",
            )
        )
    return state_init


async def _tell_about_fixed_deals(session: AsyncSession, user_id: int, old: Wallet) -> None:
    deal_ids = await repository.open_deals_paying(session, user_id=user_id, address=old.address)
    if not deal_ids:
        return
    listed = ", ".join(f"#{deal_id}" for deal_id in deal_ids)
    old_address = friendly(old.address, testnet=old.network == TonChain.testnet.name)
    await notify(
        session,
        user_id=user_id,
        type=NotificationType.system,
        title="New wallet linked; some deals still use your previous one",
        body=(
            f"Deal{'s' if len(deal_ids) > 1 else ''} {listed} will still pay to your previous "
            f"wallet {old_address}: that address is fixed in their escrow contracts and cannot "
            "change. Keep access to it until they are closed. New deals use your new wallet."
        ),
        related=(RelatedType.deal, deal_ids[0]) if len(deal_ids) == 1 else None,
    )
