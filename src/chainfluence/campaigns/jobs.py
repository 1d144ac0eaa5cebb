"""Campaign sweeps: tell the advertiser once, on its last day, that a campaign is ending."""

from __future__ import annotations

from chainfluence.campaigns import repository
from chainfluence.jobs import periodic
from chainfluence.kit.time import utcnow
from chainfluence.models import NotificationType, RelatedType
from chainfluence.notifications.service import notify
from chainfluence.ports import Sessions

BATCH = 200


@periodic("campaigns.sweep_ending", every_seconds=300)
async def sweep_ending(runtime: Sessions) -> None:
    """`campaign_ending` a day before a campaign closes (it closes when its last day ends).

    `ending_notified_at` is set in the notification's transaction, so each campaign is told once
    even with several workers sweeping (rows are locked, SKIP LOCKED on PostgreSQL).
    """
    while True:
        async with runtime.session() as session:
            now = utcnow()
            campaigns = await repository.ending_on(
                session,
                now.date(),
                limit=BATCH,
                skip_locked=session.get_bind().dialect.name == "postgresql",
            )
            for campaign in campaigns:
                campaign.ending_notified_at = now
                await notify(
                    session,
                    user_id=campaign.advertiser_id,
                    type=NotificationType.campaign_ending,
                    title=f"“{campaign.title}” ends today",
                    body="The campaign takes offers until the end of today (UTC). "
                    "Extend its deadline to keep it open.",
                    related=(RelatedType.campaign, campaign.id),
                )
        if len(campaigns) < BATCH:
            return
