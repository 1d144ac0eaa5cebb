"""Chainfluence: a Telegram channel advertising marketplace with per-deal TON escrow."""

__version__ = "0.1.0"
