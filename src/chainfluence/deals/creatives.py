"""Creatives: the versioned drafts of a deal's ad post, and the approval that freezes one.

Either party drafts a version; the other approves it or requests changes with a comment. The
approved version's content hash is frozen into the deal, and that exact content is what the bot
publishes. Drafting is open while the deal waits for its deposit and while the money is held,
until the post is published; a new draft after an approval withdraws that approval.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.deals import repository, timeline
from chainfluence.deals.creative_schemas import CreativeDraft
from chainfluence.deals.exceptions import DealNotFound
from chainfluence.deals.service import creative_content_hash
from chainfluence.deals.state_machine import Actor, Role
from chainfluence.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from chainfluence.kit.time import utcnow
from chainfluence.models import (
    Campaign,
    Creative,
    CreativeStatus,
    Deal,
    DealStatus,
    NotificationType,
    RelatedType,
    Upload,
)
from chainfluence.notifications.service import notify

DRAFTING_STATUSES = frozenset({DealStatus.pending, DealStatus.in_escrow})


class CreativeNotFound(NotFound):
    code = "creative_not_found"

    def __init__(self) -> None:
        super().__init__("No such creative version in this deal.")


class CreativeLocked(Conflict):
    code = "creative_locked"


class InvalidCreative(Unprocessable):
    code = "invalid_creative"


class NotYourCreativeTurn(Forbidden):
    code = "creative_not_your_turn"


def _counterpart(deal: Deal, user_id: int) -> int:
    return deal.publisher_id if user_id == deal.advertiser_id else deal.advertiser_id


async def _check_images(session: AsyncSession, deal: Deal, file_ids: list[str]) -> None:
    """Images must be uploads of one of the parties (or of the deal's campaign)."""
    if not file_ids:
        return
    allowed_owners = {deal.advertiser_id, deal.publisher_id}
    rows = (
        await session.execute(select(Upload.id, Upload.owner_id).where(Upload.id.in_(file_ids)))
    ).all()
    found = {row.id: row.owner_id for row in rows}
    campaign_images: set[str] = set()
    if deal.campaign_id is not None:
        campaign = await session.get(Campaign, deal.campaign_id)
        campaign_images = set(campaign.creative_images) if campaign else set()
    for file_id in file_ids:
        if file_id not in found:
            raise InvalidCreative(f"Image {file_id} is not an uploaded file.")
        if found[file_id] not in allowed_owners and file_id not in campaign_images:
            raise InvalidCreative(f"Image {file_id} was uploaded by someone outside this deal.")


async def _latest(session: AsyncSession, deal_id: int) -> Creative | None:
    statement = (
        select(Creative)
        .where(Creative.deal_id == deal_id)
        .order_by(Creative.version.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _locked_deal(session: AsyncSession, deal_id: int) -> Deal:
    deal = await repository.get_for_update(session, deal_id)
    if deal is None:
        raise DealNotFound()
    if deal.status not in DRAFTING_STATUSES:
        raise CreativeLocked(
            "The creative can only change before the post is published "
            f"(this deal is {deal.status.value.replace('_', ' ')})."
        )
    return deal


async def submit(
    session: AsyncSession, deal_id: int, actor: Actor, draft: CreativeDraft
) -> Creative:
    assert actor.user_id is not None
    assert actor.role in (Role.advertiser, Role.publisher)
    deal = await _locked_deal(session, deal_id)
    await _check_images(session, deal, draft.images)
    previous = await _latest(session, deal.id)
    version = (previous.version + 1) if previous else 1
    entities = [entity.model_dump(exclude_none=True) for entity in draft.entities]
    buttons = [button.model_dump() for button in draft.buttons]
    content_hash = creative_content_hash(
        text=draft.text, entities=entities, images=draft.images, buttons=buttons
    )
    # Older drafts are superseded; an approval is withdrawn by a newer draft.
    for older in await _open_versions(session, deal.id):
        older.status = CreativeStatus.superseded
    withdrawn = deal.creative_version
    deal.creative_version = None
    deal.content_hash = None
    creative = Creative(
        deal_id=deal.id,
        version=version,
        author_id=actor.user_id,
        text=draft.text,
        entities=entities,
        images=list(draft.images),
        buttons=buttons,
        status=CreativeStatus.submitted,
        content_hash=content_hash,
    )
    session.add(creative)
    await session.flush()
    await timeline.record(
        session,
        deal,
        "creative_submitted",
        actor_type=actor.actor_type,
        actor_id=actor.user_id,
        details={
            "version": version,
            "content_hash": content_hash,
            **({"withdrew_approval_of": withdrawn} if withdrawn is not None else {}),
        },
    )
    await notify(
        session,
        user_id=_counterpart(deal, actor.user_id),
        type=NotificationType.creative_submitted,
        title=f"Deal #{deal.id}: creative v{version} to review",
        body="Approve it or request changes.",
        related=(RelatedType.deal, deal.id),
    )
    return creative


async def _open_versions(session: AsyncSession, deal_id: int) -> list[Creative]:
    statement = select(Creative).where(
        Creative.deal_id == deal_id,
        Creative.status.in_(
            [CreativeStatus.submitted, CreativeStatus.changes_requested, CreativeStatus.approved]
        ),
    )
    return list((await session.execute(statement)).scalars())


async def _reviewable(session: AsyncSession, deal: Deal, version: int, actor: Actor) -> Creative:
    assert actor.user_id is not None
    latest = await _latest(session, deal.id)
    creative = latest if latest is not None and latest.version == version else None
    if creative is None:
        exists = await session.scalar(
            select(func.count())
            .select_from(Creative)
            .where(Creative.deal_id == deal.id, Creative.version == version)
        )
        if not exists:
            raise CreativeNotFound()
        raise CreativeLocked(f"Version {version} is not the latest draft; review the latest one.")
    if creative.author_id == actor.user_id:
        raise NotYourCreativeTurn("The other party reviews this draft, not its author.")
    if creative.status is not CreativeStatus.submitted:
        raise CreativeLocked(
            f"Version {version} is already {creative.status.value.replace('_', ' ')}."
        )
    return creative


async def approve(session: AsyncSession, deal_id: int, version: int, actor: Actor) -> Creative:
    deal = await _locked_deal(session, deal_id)
    creative = await _reviewable(session, deal, version, actor)
    now = utcnow()
    creative.status = CreativeStatus.approved
    creative.reviewed_by = actor.user_id
    creative.reviewed_at = now
    deal.creative_version = creative.version
    deal.content_hash = creative.content_hash
    if deal.status is DealStatus.in_escrow:
        # Publishing may be due now that there is something to publish.
        deal.next_check_at = utcnow()
    await timeline.record(
        session,
        deal,
        "creative_approved",
        actor_type=actor.actor_type,
        actor_id=actor.user_id,
        details={"version": creative.version, "content_hash": creative.content_hash},
    )
    if creative.author_id is not None:
        await notify(
            session,
            user_id=creative.author_id,
            type=NotificationType.creative_approved,
            title=f"Deal #{deal.id}: creative v{creative.version} approved",
            body="This version will be published as it is.",
            related=(RelatedType.deal, deal.id),
        )
    await session.flush()
    return creative


async def request_changes(
    session: AsyncSession, deal_id: int, version: int, actor: Actor, comment: str
) -> Creative:
    deal = await _locked_deal(session, deal_id)
    creative = await _reviewable(session, deal, version, actor)
    creative.status = CreativeStatus.changes_requested
    creative.review_comment = comment
    creative.reviewed_by = actor.user_id
    creative.reviewed_at = utcnow()
    await timeline.record(
        session,
        deal,
        "creative_changes_requested",
        actor_type=actor.actor_type,
        actor_id=actor.user_id,
        details={"version": creative.version, "comment": comment},
    )
    if creative.author_id is not None:
        await notify(
            session,
            user_id=creative.author_id,
            type=NotificationType.creative_changes_requested,
            title=f"Deal #{deal.id}: changes requested on v{creative.version}",
            body=comment,
            related=(RelatedType.deal, deal.id),
        )
    await session.flush()
    return creative


async def history(session: AsyncSession, deal_id: int) -> list[Creative]:
    statement = select(Creative).where(Creative.deal_id == deal_id).order_by(Creative.version)
    return list((await session.execute(statement)).scalars())


async def approved(session: AsyncSession, deal: Deal) -> Creative | None:
    if deal.creative_version is None:
        return None
    statement = select(Creative).where(
        Creative.deal_id == deal.id, Creative.version == deal.creative_version
    )
    return (await session.execute(statement)).scalar_one_or_none()


def as_payload(creative: Creative) -> dict[str, Any]:
    return {
        "text": creative.text,
        "entities": creative.entities,
        "images": creative.images,
        "buttons": creative.buttons,
    }
