"""Review routes: leave one on a finished deal; read a channel's or a user's reviews."""

from __future__ import annotations

from fastapi import APIRouter, Response

from chainfluence.auth.dependencies import CurrentUser
from chainfluence.deals.dependencies import PartyDeal
from chainfluence.dependencies import DBSession
from chainfluence.kit.pagination import Page, paginate, set_total
from chainfluence.kit.schemas import TgId
from chainfluence.reviews import schemas, service

router = APIRouter(tags=["reviews"])


@router.post("/deals/{deal_id}/reviews", response_model=schemas.Review, status_code=201)
async def review_deal(
    body: schemas.ReviewCreate, deal: PartyDeal, user: CurrentUser, session: DBSession
) -> schemas.Review:
    review = await service.leave(session, deal, user.id, body)
    return schemas.Review.model_validate(review)


@router.get("/channels/{channel_id}/reviews", response_model=list[schemas.Review])
async def channel_reviews(
    channel_id: TgId, session: DBSession, page: Page, response: Response
) -> list[schemas.Review]:
    rows, total = await paginate(session, service.of_channel(channel_id), page)
    set_total(response, total)
    return [schemas.Review.model_validate(r) for r in rows]


@router.get("/users/{user_id}/reviews", response_model=list[schemas.Review])
async def user_reviews(
    user_id: TgId, session: DBSession, page: Page, response: Response
) -> list[schemas.Review]:
    rows, total = await paginate(session, service.of_user(user_id), page)
    set_total(response, total)
    return [schemas.Review.model_validate(r) for r in rows]
