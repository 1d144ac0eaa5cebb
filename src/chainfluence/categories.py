"""Channel and campaign categories known to the catalogue.

One canonical list, spelled lowercase on the wire and in the database. Input is accepted in any
case and with surrounding spaces (the Mini App sends "Crypto", "DeFi", "NFT"), so `CategoryIn` is
the type every request body and query parameter uses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator


class Category(StrEnum):
    crypto = "crypto"
    defi = "defi"
    trading = "trading"
    nft = "nft"
    tech = "tech"
    business = "business"
    finance = "finance"
    news = "news"
    education = "education"
    entertainment = "entertainment"
    lifestyle = "lifestyle"
    gaming = "gaming"
    sports = "sports"
    health = "health"
    travel = "travel"
    food = "food"
    fashion = "fashion"
    music = "music"
    art = "art"
    science = "science"
    politics = "politics"
    marketing = "marketing"
    other = "other"


def _canonical(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


CategoryIn = Annotated[Category, BeforeValidator(_canonical)]
