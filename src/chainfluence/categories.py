"""Channel and campaign categories known to the catalogue."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    crypto = "crypto"
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
