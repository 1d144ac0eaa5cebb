"""TON Connect ton_proof challenges: single-use, expiring, bound to the user they were issued to.

Kept in the database (not in memory or Redis) so any api replica can verify a payload another
one issued, and "used once" is one conditional UPDATE that concurrent requests serialize on.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from chainfluence.kit.db import BigIntPK, UTCDateTime
from chainfluence.kit.time import utcnow
from chainfluence.models.base import Base


class TonProofPayload(Base):
    __tablename__ = "ton_proof_payloads"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # 32 random bytes as hex: what the wallet signs inside its proof.
    payload: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
