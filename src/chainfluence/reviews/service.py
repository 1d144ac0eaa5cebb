"""Leaving a review, and the exact running averages it feeds.

Ratings are kept as integer sums and counts on users and channels (average = sum / count), updated
in the same transaction as the review with atomic increments, so concurrent reviews never lose one.
"""

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chainfluence.kit.errors import Conflict, Forbidden
from chainfluence.models import (
    Channel,
    Deal,
    DealStatus,
    NotificationType,
    RelatedType,
    Review,
    User,
)
from chainfluence.notifications.service import notify
from chainfluence.reviews.schemas import ReviewCreate

# A deal can be reviewed once it is over, whichever way it ended with money involved.
REVIEWABLE = frozenset({DealStatus.released, DealStatus.refunded, DealStatus.split_paid})


class AlreadyReviewed(Conflict):
    code = "already_reviewed"

    def __init__(self) -> None:
        super().__init__("You have already reviewed this deal.")


class DealNotReviewable(Conflict):
    code = "deal_not_reviewable"


class NotAParty(Forbidden):
    code = "not_a_party"

    def __init__(self) -> None:
        super().__init__("Only the advertiser and the publisher of a deal can review it.")


async def leave(session: AsyncSession, deal: Deal, reviewer_id: int, body: ReviewCreate) -> Review:
    if reviewer_id not in (deal.advertiser_id, deal.publisher_id):
        raise NotAParty()
    if deal.status not in REVIEWABLE:
        raise DealNotReviewable("A deal can be reviewed once it is released or refunded.")
    reviewee_id = deal.publisher_id if reviewer_id == deal.advertiser_id else deal.advertiser_id
    about_channel = reviewee_id == deal.publisher_id
    existing = await session.scalar(
        select(Review.id).where(Review.deal_id == deal.id, Review.reviewer_id == reviewer_id)
    )
    if existing is not None:
        raise AlreadyReviewed()
    review = Review(
        deal_id=deal.id,
        reviewer_id=reviewer_id,
        reviewee_id=reviewee_id,
        channel_id=deal.channel_id if about_channel else None,
        rating=body.rating,
        comment=body.comment or None,
    )
    session.add(review)
    try:
        await session.flush()
    except IntegrityError:
        # The same party raced itself; the unique constraint kept one.
        raise AlreadyReviewed() from None
    await session.execute(
        update(User)
        .where(User.id == reviewee_id)
        .values(rating_sum=User.rating_sum + body.rating, rating_count=User.rating_count + 1)
    )
    if about_channel:
        await session.execute(
            update(Channel)
            .where(Channel.id == deal.channel_id)
            .values(
                rating_sum=Channel.rating_sum + body.rating,
                rating_count=Channel.rating_count + 1,
            )
        )
    await notify(
        session,
        user_id=reviewee_id,
        type=NotificationType.review_received,
        title=f"Deal #{deal.id}: you were rated {body.rating}/5",
        body=body.comment or "",
        related=(RelatedType.deal, deal.id),
    )
    return review


def of_channel(channel_id: int) -> Select[Review]:
    return select(Review).where(Review.channel_id == channel_id).order_by(Review.id.desc())


def of_user(user_id: int) -> Select[Review]:
    return select(Review).where(Review.reviewee_id == user_id).order_by(Review.id.desc())
