"""Channels (Telegram chat id as key), their per-format prices and their Telegram administrators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    case,
    cast,
    literal_column,
    text,
)
from sqlalchemy import column as sa_column
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.formats import AdFormat
from chainfluence.kit.db import JSONType, UTCDateTime
from chainfluence.models.base import Base, TimestampMixin, enum_type

# Shown in the public catalogue: the owner keeps it active and the bot's checks passed.
LISTED_SQL = "is_active AND is_verified"
UNLISTED_SQL = f"NOT ({LISTED_SQL})"


# Sort keys of the catalogue with an index each way (name in the index -> column).
_SORTED_COLUMNS = {
    "avg_views": "avg_views",
    "er": "engagement_rate",
    "price": "min_price_nano",
    "cpm": "min_price_cpm_nano",
}


class Channel(TimestampMixin, Base):
    __tablename__ = "channels"
    __table_args__ = (
        CheckConstraint("subscribers IS NULL OR subscribers >= 0", name="subscribers_non_negative"),
        CheckConstraint("avg_views IS NULL OR avg_views >= 0", name="avg_views_non_negative"),
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        CheckConstraint("rating_sum >= 0", name="rating_sum_non_negative"),
        # The catalogue lists active, verified channels only; its indexes cover just those rows
        # and carry `id` as the tie-breaker of every sort, so a page is one index range scan.
        Index(
            "ix_channels_listed_subscribers",
            "subscribers",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        Index(
            "ix_channels_listed_category_subscribers",
            "category",
            "subscribers",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # A language, as the category above: its pages by subscribers and its count
        # (X-Total-Count) read this index alone.
        Index(
            "ix_channels_listed_language_subscribers",
            "language",
            "subscribers",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # Lets counts that join prices (X-Total-Count) read listed ids without the wide rows.
        Index(
            "ix_channels_listed_id",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # The channels out of the catalogue (a few of them): a count of a format's prices tells
        # listed channels' prices from the others by these alone (catalogue.py `_price_count`),
        # without reading every listed channel.
        Index(
            "ix_channels_unlisted_id",
            "id",
            postgresql_where=text(UNLISTED_SQL),
            sqlite_where=text(UNLISTED_SQL),
        ),
        Index(
            "ix_channels_listed_created_at",
            "created_at",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # The catalogue's "-trust" sort (best first, unknown last) and minTrust filter.
        # Serves "-trust" (best first, unknown last) in one index range scan.
        Index(
            "ix_channels_listed_trust",
            sa_column("trust_score").desc().nulls_last(),
            sa_column("id").desc(),
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        Index(
            "ix_channels_listed_trust_asc",
            "trust_score",
            "id",
            postgresql_where=text(LISTED_SQL),
            sqlite_where=text(LISTED_SQL),
        ),
        # The other sorts, each way. Unknown figures go last in both directions, so a
        # descending sort cannot walk the ascending index backwards: it has its own.
        *(
            index
            for name, column in _SORTED_COLUMNS.items()
            for index in (
                Index(
                    f"ix_channels_listed_{name}",
                    column,
                    "id",
                    postgresql_where=text(LISTED_SQL),
                    sqlite_where=text(LISTED_SQL),
                ),
                Index(
                    f"ix_channels_listed_{name}_desc",
                    sa_column(column).desc().nulls_last(),
                    sa_column("id").desc(),
                    postgresql_where=text(LISTED_SQL),
                    sqlite_where=text(LISTED_SQL),
                ),
            )
        ),
        # Substring search (ILIKE '%q%') on PostgreSQL: trigram GIN indexes. `pg_trgm` is
        # created by the migration environment (kit/dialect.py). On SQLite the same declaration
        # would be a useless B-tree, so there it is an empty partial index (WHERE 0).
        *(
            Index(
                f"ix_channels_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                sqlite_where=text("0"),
            )
            for column in ("title", "username", "description")
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(256), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(16))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # Why it is inactive: "owner" (paused), "bot_removed", "bot_rights_lost", "deleted".
    deactivated_reason: Mapped[str | None] = mapped_column(String(32))
    # Who promoted the bot in the channel (from my_chat_member), when we know it.
    bot_added_by: Mapped[int | None] = mapped_column(BigInteger)
    bot_status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Stats: each figure is null until observed; `stats_sources` says where each came from.
    subscribers: Mapped[int | None] = mapped_column(BigInteger)
    avg_views: Mapped[int | None] = mapped_column(BigInteger)
    # Average views / subscribers in percent (28.63 = 28.63 %), as on the wire.
    engagement_rate: Mapped[float | None] = mapped_column(Float)
    posts_per_week: Mapped[float | None] = mapped_column(Float)
    # From the post view series (`post_view_snapshots`): mean views at 24 h of the last posts
    # read at that age, ERR24 = that / subscribers and ER = (forwards + reactions) / views, both
    # in percent.
    avg_views_24h: Mapped[int | None] = mapped_column(BigInteger)
    err24_percent: Mapped[float | None] = mapped_column(Float)
    er_percent: Mapped[float | None] = mapped_column(Float)
    language_distribution: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    top_posts_views: Mapped[list[Any] | None] = mapped_column(JSONType)
    # 0-100 from our own series (`channels.trust`), null until enough posts are read; why, and
    # the signals that moved it, are in stats_sources["trust"].
    trust_score: Mapped[int | None] = mapped_column(Integer)
    stats_sources: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    stats_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The cheapest enabled format's price and its CPM (price per 1000 average views), kept in
    # step with `channel_prices` and `avg_views` so the catalogue sorts on columns, not joins.
    min_price_nano: Mapped[int | None] = mapped_column(BigInteger)
    min_price_cpm_nano: Mapped[int | None] = mapped_column(BigInteger)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rating_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


# A channel's average rating, null while it has none: the catalogue's "rating" sort key. The
# zero is written into the SQL, not bound, so the expression is the indexes' own in every plan.
RATING = case(
    (
        Channel.rating_count > literal_column("0"),
        cast(Channel.rating_sum, Float) / Channel.rating_count,
    ),
    else_=None,
)
# The rating sorts and the minRating filter, each way (unrated last both ways), on PostgreSQL;
# SQLite sorts without. Migration 0015 adds statistics on the expression (PostgreSQL keeps none
# for a partial index's expressions), so the planner knows how many channels a bound passes.
# Declared in the text PostgreSQL 15 gives back for `RATING` (pg_get_indexdef), so that
# autogenerate's comparison of models and migrations sees the same expression.
_RATING_AS_STORED: ColumnElement[float] = literal_column(
    "(\nCASE\n    WHEN rating_count > 0 THEN rating_sum::double precision"
    " / rating_count::numeric::double precision\n    ELSE NULL::double precision\nEND)"
)
Index(
    "ix_channels_listed_rating",
    _RATING_AS_STORED,
    Channel.id,
    postgresql_where=text(LISTED_SQL),
).ddl_if(dialect="postgresql")
Index(
    "ix_channels_listed_rating_desc",
    _RATING_AS_STORED.desc().nulls_last(),
    Channel.id.desc(),
    postgresql_where=text(LISTED_SQL),
).ddl_if(dialect="postgresql")


class ChannelPrice(TimestampMixin, Base):
    """One row per channel and format, so the catalogue filters and sorts by price on indexes."""

    __tablename__ = "channel_prices"
    __table_args__ = (
        CheckConstraint("price_nano >= 0", name="price_non_negative"),
        # Carries channel_id and cpm_nano, so a price-range page sorted by CPM and its count
        # read this index alone (index-only scans) instead of visiting each price row.
        Index(
            "ix_channel_prices_format_price",
            "format",
            "enabled",
            "price_nano",
            postgresql_include=["channel_id", "cpm_nano"],
        ),
        # A format's price range sorted by CPM walks this in order, filtering the price here
        # (index-only on PostgreSQL). Queries must say `enabled` (not `enabled IS true`) for the
        # planner to match the partial index.
        Index(
            "ix_channel_prices_format_cpm",
            "format",
            "cpm_nano",
            "channel_id",
            postgresql_where=text("enabled"),
            sqlite_where=text("enabled"),
            postgresql_include=["price_nano"],
        ),
        # A format's prices by price or CPM, highest first (unknown CPM last).
        Index(
            "ix_channel_prices_format_price_desc",
            "format",
            sa_column("price_nano").desc().nulls_last(),
            sa_column("channel_id").desc(),
            postgresql_where=text("enabled"),
            sqlite_where=text("enabled"),
            postgresql_include=["cpm_nano"],
        ),
        Index(
            "ix_channel_prices_format_cpm_desc",
            "format",
            sa_column("cpm_nano").desc().nulls_last(),
            sa_column("channel_id").desc(),
            postgresql_where=text("enabled"),
            sqlite_where=text("enabled"),
            postgresql_include=["price_nano"],
        ),
    )

    channel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    format: Mapped[AdFormat] = mapped_column(enum_type(AdFormat, "ad_format"), primary_key=True)
    price_nano: Mapped[int] = mapped_column(BigInteger, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # price_nano * 1000 / the channel's avg_views: null while views are unknown.
    cpm_nano: Mapped[int | None] = mapped_column(BigInteger)


class ChannelAdmin(Base):
    """A Telegram administrator of a channel, as last synced from getChatAdministrators.

    Not every administrator is one of our users, so `user_id` has no foreign key.
    """

    __tablename__ = "channel_admins"

    channel_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    is_creator: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_post_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_edit_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    can_delete_messages: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    synced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
