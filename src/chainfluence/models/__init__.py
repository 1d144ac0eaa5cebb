"""ORM models, one per file; importing this package registers every table on the metadata."""

from chainfluence.models.base import Base
from chainfluence.models.bot_chats import BotChat
from chainfluence.models.campaigns import Campaign, CampaignStatus
from chainfluence.models.chain_cursors import ChainCursor
from chainfluence.models.chain_transactions import ChainTransaction, ChainTxKind
from chainfluence.models.channel_posts import ChannelPost
from chainfluence.models.channel_subscriber_readings import ChannelSubscriberReading
from chainfluence.models.channels import Channel, ChannelAdmin, ChannelPrice
from chainfluence.models.creatives import Creative, CreativeStatus
from chainfluence.models.deal_timeline import ActorType, DealEvent
from chainfluence.models.deals import Deal, DealStatus
from chainfluence.models.escrow_actions import (
    ACTIVE_ACTION_STATUSES,
    EscrowAction,
    EscrowActionKind,
    EscrowActionStatus,
)
from chainfluence.models.notifications import (
    Notification,
    NotificationType,
    PushStatus,
    RelatedType,
)
from chainfluence.models.offers import Offer, OfferDirection, OfferStatus
from chainfluence.models.post_view_snapshots import PostViewSnapshot
from chainfluence.models.reviews import Review
from chainfluence.models.ton_proof_payloads import TonProofPayload
from chainfluence.models.uploads import Upload
from chainfluence.models.user_events import UserEvent, UserEventType
from chainfluence.models.users import User
from chainfluence.models.wallets import Wallet

__all__ = [
    "ACTIVE_ACTION_STATUSES",
    "ActorType",
    "Base",
    "BotChat",
    "Campaign",
    "CampaignStatus",
    "ChainCursor",
    "ChainTransaction",
    "ChainTxKind",
    "Channel",
    "ChannelAdmin",
    "ChannelPost",
    "ChannelPrice",
    "ChannelSubscriberReading",
    "Creative",
    "CreativeStatus",
    "Deal",
    "DealEvent",
    "DealStatus",
    "EscrowAction",
    "EscrowActionKind",
    "EscrowActionStatus",
    "Notification",
    "NotificationType",
    "Offer",
    "OfferDirection",
    "OfferStatus",
    "PostViewSnapshot",
    "PushStatus",
    "RelatedType",
    "Review",
    "TonProofPayload",
    "Upload",
    "User",
    "UserEvent",
    "UserEventType",
    "Wallet",
]
