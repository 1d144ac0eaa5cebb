"""/v1/channels: list, browse, edit, delete channels; their stats and managers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from chainfluence import jobs
from chainfluence.auth.dependencies import CurrentReader, CurrentUser
from chainfluence.channels import catalogue, repository, schemas, service, stats
from chainfluence.channels.dependencies import ChannelManager, PublicChannel
from chainfluence.channels.exceptions import StatsRefreshTooSoon
from chainfluence.dependencies import DBSession, ServicesDep
from chainfluence.kit.db import read_connection
from chainfluence.kit.errors import TooManyRequests
from chainfluence.kit.pagination import Page, json_page
from chainfluence.kit.schemas import Message, TgId

router = APIRouter(prefix="/channels", tags=["channels"])


@router.get("", response_model=list[schemas.Channel])
async def list_channels(
    services: ServicesDep,
    page: Page,
    filters: Annotated[catalogue.Filters, Depends(catalogue.filters)],
) -> Response:
    """The public catalogue: active, verified channels. See `catalogue` for price and CPM."""
    # X-Total-Count is exact without counting every page: see `catalogue.total`.
    # Reads only: a plain pooled connection, no ORM session or transaction around them.
    async with read_connection(services.engine) as connection:
        rows, total = await catalogue.listing(connection, services.totals, filters, page)
    return json_page([service.list_item(row) for row in rows], total)


@router.get("/mine", response_model=list[schemas.Channel])
async def my_channels(reader: CurrentReader, page: Page) -> Response:
    """Channels you own or administer on Telegram, active or not."""
    rows, total = await repository.mine_page(reader.connection, reader.user_id, page)
    return json_page([service.list_item(row) for row in rows], total)


@router.post(
    "",
    response_model=schemas.Channel,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": schemas.Channel, "description": "You already list it: it is returned."}
    },
)
async def add_channel(
    body: schemas.ChannelCreate,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
    response: Response,
) -> schemas.Channel:
    """List a channel: the bot must administer it with post/edit/delete rights, and you must be
    its creator or an administrator. Re-adding your deleted or deactivated channel reactivates
    it; adding one you already list returns it (200)."""
    channel, newly = await service.add_channel(session, services.bot, user=user, body=body)
    if not newly:
        response.status_code = status.HTTP_200_OK
    return (await service.to_schemas(session, [channel]))[0]


@router.get("/{channel_id}", response_model=schemas.Channel)
async def get_channel(channel: PublicChannel, session: DBSession) -> schemas.Channel:
    return (await service.to_schemas(session, [channel]))[0]


@router.patch("/{channel_id}", response_model=schemas.Channel)
async def update_channel(
    channel_id: TgId,
    body: schemas.ChannelUpdate,
    user: CurrentUser,
    session: DBSession,
    services: ServicesDep,
) -> schemas.Channel:
    """Owner or manager: category, description, language, the full price list, active flag."""
    channel = await service.update_channel(
        session, services.bot, user=user, channel_id=channel_id, body=body
    )
    return (await service.to_schemas(session, [channel]))[0]


@router.delete("/{channel_id}", response_model=Message)
async def delete_channel(channel_id: TgId, user: CurrentUser, session: DBSession) -> Message:
    """Owner only; refused (409) while the channel has open deals."""
    await service.delete_channel(session, user=user, channel_id=channel_id)
    return Message(message="The channel was removed from the catalogue.")


@router.get("/{channel_id}/stats", response_model=schemas.Stats)
async def channel_stats(channel: PublicChannel) -> schemas.Stats:
    """Stored figures only: this never waits on Telegram."""
    return stats.to_schema(channel)


@router.post(
    "/{channel_id}/refresh-stats", response_model=Message, status_code=status.HTTP_202_ACCEPTED
)
async def refresh_stats(
    channel: ChannelManager, session: DBSession, services: ServicesDep
) -> Message:
    """Queue a refresh of the channel's stats and managers (limited per channel)."""
    try:
        await services.rate_limiter.hit(
            services.settings.telegram.stats_refresh_limit, "channel-stats", str(channel.id)
        )
    except TooManyRequests as exc:
        raise StatsRefreshTooSoon(exc.retry_after) from None
    await jobs.enqueue(
        session,
        "channels.refresh_stats",
        {"channel_id": channel.id},
        dedup_key=f"channels.refresh_stats:{channel.id}",
    )
    return Message(message="Stats refresh queued.")


@router.get("/{channel_id}/managers", response_model=list[schemas.Manager])
async def channel_managers(channel: ChannelManager, session: DBSession) -> list[schemas.Manager]:
    """The channel's Telegram administrators as last synced (listing and each stats refresh),
    marking which are our users (they may act for it)."""
    return await service.managers(session, channel)
