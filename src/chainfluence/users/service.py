"""User service: login registration, roles, profile and statistics views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from chainfluence.config import Settings
from chainfluence.kit.errors import NotFound
from chainfluence.kit.ton_address import friendly
from chainfluence.models import User, Wallet
from chainfluence.models.users import average_rating
from chainfluence.users import repository, schemas
from chainfluence.users.identity import TelegramIdentity


async def login(connection: AsyncConnection, identity: TelegramIdentity) -> None:
    """Register the user on first login, refresh their names on later ones."""
    await repository.record_login(connection, identity)


async def update_roles(session: AsyncSession, user: User, update: schemas.UserUpdate) -> User:
    if update.is_publisher is not None:
        user.is_publisher = update.is_publisher
    if update.is_advertiser is not None:
        user.is_advertiser = update.is_advertiser
    await session.flush()
    return user


async def me(session: AsyncSession, user: User, settings: Settings) -> schemas.User:
    return profile(user, await repository.current_wallet(session, user.id), settings)


def profile(user: User, wallet: Wallet | None, settings: Settings) -> schemas.User:
    """The caller's profile from the user and their linked wallet."""
    return schemas.User(
        id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        photo_url=user.photo_url,
        language_code=user.language_code,
        is_publisher=user.is_publisher,
        is_advertiser=user.is_advertiser,
        is_operator=settings.is_operator(user.id),
        wallet_address=friendly(wallet.address, testnet=wallet.network == "testnet")
        if wallet
        else None,
        wallet_address_raw=wallet.address if wallet else None,
        wallet_verified=wallet is not None,
        rating=user.rating,
        review_count=user.rating_count,
        member_since=user.member_since,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def profile_from_row(row: Mapping[Any, Any], settings: Settings) -> schemas.User:
    """`profile` from `repository.profile_row`'s columns (no ORM objects on the hot path)."""
    address = row["wallet_address"]
    count = row["rating_count"]
    return schemas.User(
        id=row["id"],
        username=row["username"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        photo_url=row["photo_url"],
        language_code=row["language_code"],
        is_publisher=row["is_publisher"],
        is_advertiser=row["is_advertiser"],
        is_operator=settings.is_operator(row["id"]),
        wallet_address=friendly(address, testnet=row["wallet_network"] == "testnet")
        if address is not None
        else None,
        wallet_address_raw=address,
        wallet_verified=address is not None,
        rating=average_rating(row["rating_sum"], count),
        review_count=count,
        member_since=row["member_since"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def public_profile(session: AsyncSession, user_id: int) -> schemas.PublicUser:
    user = await repository.get(session, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    publisher = await repository.publisher_totals(session, user_id)
    advertiser = await repository.advertiser_totals(session, user_id)
    return schemas.PublicUser(
        id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        photo_url=user.photo_url,
        is_publisher=user.is_publisher,
        is_advertiser=user.is_advertiser,
        rating=user.rating,
        review_count=user.rating_count,
        deals_completed=publisher.deals_completed + advertiser.deals_completed,
        member_since=user.member_since,
    )


async def stats(session: AsyncSession, user: User) -> schemas.UserStats:
    publisher = await repository.publisher_totals(session, user.id)
    advertiser = await repository.advertiser_totals(session, user.id)
    return schemas.UserStats(
        publisher=schemas.PublisherStats(
            channels_listed=publisher.channels_listed,
            total_earned=publisher.earned_nano,
            total_earned_nano=publisher.earned_nano,
            deals_completed=publisher.deals_completed,
            rating=user.rating,
            review_count=user.rating_count,
        ),
        advertiser=schemas.AdvertiserStats(
            total_spent=advertiser.spent_nano,
            total_spent_nano=advertiser.spent_nano,
            deals_completed=advertiser.deals_completed,
            campaigns_created=advertiser.campaigns_created,
        ),
    )
