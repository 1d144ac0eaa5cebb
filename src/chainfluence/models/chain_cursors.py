"""Where the chain watcher has read up to, so a restart resumes without missing or repeating."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import JSONType, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base


class ChainCursor(Base):
    """One named reading position, moved in the same transaction as what was read up to it.

    Block scanning keeps ``{"mc_seqno": n, "shards": {"<wc>:<shard hex>": seqno}}`` under the
    name ``blocks``. Per-address polling needs no row here: an escrow's position is the newest
    lt recorded for it in ``chain_transactions``, written in the same transaction as the record.
    """

    __tablename__ = "chain_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
